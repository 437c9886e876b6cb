import { open } from 'node:fs/promises'
import { isBerthError } from '../core/errors.js'
import type { LlmImage, LlmMessage } from '../llm/types.js'
import { checkImage, MAX_IMAGE_BYTES } from '../tools/image-check.js'
import { resolveInside } from '../workspace/containment.js'
import { isGone } from '../workspace/fs-errors.js'

/** Images per model request, newest kept: each costs input tokens on every later call. */
export const MAX_IMAGES_PER_REQUEST = 10

/** What became of one attached file: an image for the model, a note for the model, or nothing (not an image). */
type Loaded = { image: LlmImage } | { note: string } | null

/**
 * Turns the image files of the history into images on the model request:
 * those a user attached to their messages (`user_message` `files`), as the
 * reference agent does, and those tools returned (`tool_result` `images`, e.g.
 * `display_image`). Files are read through the workspace's one door
 * (`resolveInside`), recognised by their first bytes, and read once per run
 * (a tool's image once per call). An image that cannot be sent (too big,
 * gone, outside the workspace) gets a one-line note in the message instead,
 * so the model knows it exists.
 *
 * @example
 *   const images = new ImageAttachments(workspaceDir)
 *   const request = await images.attach(history.messages(), (message) => history.attachedFiles(message))
 */
export class ImageAttachments {
  private readonly loaded = new Map<string, Promise<Loaded>>()

  constructor(private readonly workspaceDir: string) {}

  /** The messages with their images attached (the newest MAX_IMAGES_PER_REQUEST); other messages unchanged. */
  async attach(messages: LlmMessage[], filesOf: (message: LlmMessage) => readonly string[]): Promise<LlmMessage[]> {
    const out = messages.slice()
    let budget = MAX_IMAGES_PER_REQUEST
    for (let index = out.length - 1; index >= 0; index--) {
      const message = out[index] as LlmMessage
      if (message.role === 'assistant') continue
      const files = filesOf(message)
      if (files.length === 0) continue
      // A user's files may be anything (only images are shown); a tool said its files are images.
      const fromTool = message.role === 'tool'
      const images: LlmImage[] = []
      const notes: string[] = []
      for (const file of files) {
        // Per call: a later display of the same path, rewritten meanwhile, shows the new bytes.
        const loaded = await this.load(file, fromTool ? message.toolCallId : null)
        if (loaded === null) continue
        if ('note' in loaded) notes.push(loaded.note)
        else if (budget > 0) {
          images.push(loaded.image)
          budget--
        } else
          notes.push(`(${file} is not shown as an image: only the newest ${MAX_IMAGES_PER_REQUEST} images are sent)`)
      }
      if (images.length === 0 && notes.length === 0) continue
      out[index] = {
        ...message,
        content: notes.length === 0 ? message.content : `${message.content}\n${notes.join('\n')}`,
        ...(images.length === 0 ? {} : { images: [...(message.images ?? []), ...images] }),
      }
    }
    return out
  }

  private load(file: string, toolCallId: string | null): Promise<Loaded> {
    const key = toolCallId === null ? file : `${toolCallId}\0${file}`
    let pending = this.loaded.get(key)
    if (pending === undefined) {
      pending = this.read(file, toolCallId !== null)
      this.loaded.set(key, pending)
    }
    return pending
  }

  private async read(file: string, fromTool: boolean): Promise<Loaded> {
    // Upload responses carry the path with a leading slash (`/uploaded_files/a.png`); it is still workspace-relative.
    const relative = file.replace(/^\/+/, '')
    let handle: Awaited<ReturnType<typeof open>>
    try {
      handle = await open(await resolveInside(this.workspaceDir, relative), 'r')
    } catch (error) {
      if (isGone(error)) {
        return fromTool || isImageName(file) ? { note: `(${file} is no longer in the workspace)` } : null
      }
      // An attachment never fails the run: the model is told, and the run goes on.
      return { note: `(${file} is not shown: ${isBerthError(error) ? error.message : describeFsError(error)})` }
    }
    try {
      const check = await checkImage(handle)
      if (check.kind === 'not-a-file' || check.kind === 'not-an-image') {
        return fromTool ? { note: `(${file} is not shown: it is no longer an image file)` } : null
      }
      if (check.kind === 'too-big') return tooBig(file, check.size)
      const bytes = await handle.readFile()
      if (bytes.length > MAX_IMAGE_BYTES) return tooBig(file, bytes.length)
      return { image: { mediaType: check.mediaType, base64: bytes.toString('base64') } }
    } finally {
      await handle.close()
    }
  }
}

function tooBig(file: string, bytes: number): Loaded {
  const size = `${(bytes / 1e6).toFixed(1)} MB`
  return { note: `(${file} is not shown as an image: ${size}, over the ${MAX_IMAGE_BYTES / 1e6} MB a model accepts)` }
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code
  return code === undefined ? String(error) : `it could not be read (${code})`
}

function isImageName(file: string): boolean {
  return /\.(png|jpe?g|gif|webp)$/i.test(file)
}

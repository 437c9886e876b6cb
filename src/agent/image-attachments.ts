import { isBerthError } from '../core/errors.js'
import type { LlmImage, LlmMessage } from '../llm/types.js'
import { imageTypeOf, MAX_IMAGE_BYTES } from '../tools/image-check.js'
import type { WorkspaceKey, WorkspaceStorage } from '../workspace/workspace-storage.js'

/** Images per model request, newest kept: each costs input tokens on every later call. */
export const MAX_IMAGES_PER_REQUEST = 10

/** What became of one attached file: an image for the model, a note for the model, or nothing (not an image). */
type Loaded = { image: LlmImage } | { note: string } | null

/**
 * Turns the image files of the history into images on the model request:
 * those a user attached to their messages (`user_message` `files`), as the
 * reference agent does, and those tools returned (`tool_result` `images`, e.g.
 * `display_image`). Files are read through the workspace storage (whose
 * paths pass the one door), recognised by their first bytes, and read once per run
 * (a tool's image once per call). An image that cannot be sent (too big,
 * gone, outside the workspace) gets a one-line note in the message instead,
 * so the model knows it exists.
 *
 * @example
 *   const images = new ImageAttachments(storage, key)
 *   const request = await images.attach(history.messages(), (message) => history.attachedFiles(message))
 */
export class ImageAttachments {
  private readonly loaded = new Map<string, Promise<Loaded>>()

  constructor(
    private readonly storage: WorkspaceStorage,
    private readonly key: WorkspaceKey,
  ) {}

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
    const gone: Loaded = fromTool || isImageName(file) ? { note: `(${file} is no longer in the workspace)` } : null
    const notImage: Loaded = fromTool ? { note: `(${file} is not shown: it is no longer an image file)` } : null
    let bytes: Buffer
    let size: number
    try {
      const found = await this.storage.stat(this.key, relative)
      if (found === null) return gone
      if (found.type === 'directory') return notImage
      const { entry, body } = await this.storage.read(this.key, relative)
      size = entry.size
      // Over the limit only the first bytes are wanted: enough to say whether it is an image at all.
      bytes = await collect(body, size > MAX_IMAGE_BYTES ? HEAD_BYTES : size)
    } catch (error) {
      if (isBerthError(error, 'FILE_NOT_FOUND')) return gone
      // An attachment never fails the run: the model is told, and the run goes on.
      return { note: `(${file} is not shown: ${isBerthError(error) ? error.message : describeFsError(error)})` }
    }
    const mediaType = imageTypeOf(bytes)
    if (mediaType === undefined) return notImage
    if (size > MAX_IMAGE_BYTES || bytes.length > MAX_IMAGE_BYTES) return tooBig(file, Math.max(size, bytes.length))
    return { image: { mediaType, base64: bytes.toString('base64') } }
  }
}

const HEAD_BYTES = 16

/** Up to `limit` bytes of a stream, which is then closed. */
async function collect(body: AsyncIterable<unknown> & { destroy(): void }, limit: number): Promise<Buffer> {
  const parts: Buffer[] = []
  let total = 0
  for await (const chunk of body) {
    parts.push(chunk as Buffer)
    total += (chunk as Buffer).length
    if (total >= limit) break
  }
  body.destroy()
  return Buffer.concat(parts).subarray(0, limit)
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

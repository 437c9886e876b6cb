import { type FileHandle, open } from 'node:fs/promises'
import { isBerthError } from '../core/errors.js'
import type { LlmImage, LlmMessage } from '../llm/types.js'
import { resolveInside } from '../workspace/containment.js'
import { isGone } from '../workspace/fs-errors.js'

/**
 * Anthropic refuses an image whose base64 text is over 5 MiB; this many file
 * bytes stay under that (OpenAI-compatible servers accept more).
 */
export const MAX_IMAGE_BYTES = 3_750_000
/** Images per model request, newest kept: each costs input tokens on every later call. */
export const MAX_IMAGES_PER_REQUEST = 10

/** The formats every provider berth speaks accepts, told apart by their first bytes, not by the file name. */
const SIGNATURES: { mediaType: string; matches: (head: Buffer) => boolean }[] = [
  { mediaType: 'image/png', matches: (head) => head.subarray(0, 8).equals(PNG) },
  { mediaType: 'image/jpeg', matches: (head) => head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff },
  { mediaType: 'image/gif', matches: (head) => /^GIF8[79]a$/.test(head.toString('latin1', 0, 6)) },
  {
    mediaType: 'image/webp',
    matches: (head) => head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP',
  },
]
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const HEAD_BYTES = 12

/** What became of one attached file: an image for the model, a note for the model, or nothing (not an image). */
type Loaded = { image: LlmImage } | { note: string } | null

/** What an open file is, judged by its first bytes and its size (see `checkImage`). */
export type ImageCheck =
  | { kind: 'image'; mediaType: string; size: number }
  | { kind: 'too-big'; mediaType: string; size: number }
  | { kind: 'not-an-image' }
  | { kind: 'not-a-file' }

/**
 * The media type of image bytes (PNG, JPEG, GIF, WebP) by their first bytes;
 * undefined for anything else.
 *
 * @example
 *   imageTypeOf(await page.screenshot()) // 'image/png'
 */
export function imageTypeOf(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, HEAD_BYTES))
  return SIGNATURES.find((signature) => signature.matches(head))?.mediaType
}

/**
 * The image type of an open file by its first bytes (never its name), and
 * whether a model accepts its size. Shared by the attachments below and
 * `display_image` (src/tools/display-image.ts), so both accept the same files.
 *
 * @example
 *   const check = await checkImage(handle) // { kind: 'image', mediaType: 'image/png', size: 68 }
 */
export async function checkImage(handle: FileHandle): Promise<ImageCheck> {
  const stats = await handle.stat()
  if (!stats.isFile()) return { kind: 'not-a-file' }
  const head = Buffer.alloc(HEAD_BYTES)
  const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0)
  const mediaType = imageTypeOf(head.subarray(0, bytesRead))
  if (mediaType === undefined) return { kind: 'not-an-image' }
  return { kind: stats.size > MAX_IMAGE_BYTES ? 'too-big' : 'image', mediaType, size: stats.size }
}

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

import type { FileHandle } from 'node:fs/promises'
import { sniff } from './documents/detect.js'

/**
 * Anthropic refuses an image whose base64 text is over 5 MiB; this many file
 * bytes stay under that (OpenAI-compatible servers accept more).
 */
export const MAX_IMAGE_BYTES = 3_750_000

/** The image formats every provider berth speaks accepts, by the name `sniff` gives their first bytes. */
const MODEL_IMAGE_TYPES: Partial<Record<ReturnType<typeof sniff>, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
}
const HEAD_BYTES = 16

/** What an open file is, judged by its first bytes and its size (see `checkImage`). */
export type ImageCheck =
  | { kind: 'image'; mediaType: string; size: number }
  | { kind: 'too-big'; mediaType: string; size: number }
  | { kind: 'not-an-image' }
  | { kind: 'not-a-file' }

/**
 * The media type of image bytes a model accepts (PNG, JPEG, GIF, WebP), by
 * their first bytes (the same `sniff` the document readers use); undefined
 * for anything else.
 *
 * @example
 *   imageTypeOf(await page.screenshot()) // 'image/png'
 */
export function imageTypeOf(bytes: Uint8Array): string | undefined {
  return MODEL_IMAGE_TYPES[sniff(bytes.subarray(0, HEAD_BYTES))]
}

/**
 * The image type of an open file by its first bytes (never its name), and
 * whether a model accepts its size. Shared by the image attachments
 * (src/agent/image-attachments.ts) and `display_image`, so both accept the
 * same files.
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

import { BerthError } from '../../core/errors.js'
import type { WorkspaceKey, WorkspaceStorage } from '../../workspace/workspace-storage.js'

/** The largest file `POST /api/files/content` returns inline; bigger ones are downloaded. */
export const MAX_CONTENT_BYTES = 5 * 1024 * 1024

export interface FileContent {
  content: string
  encoding: 'utf-8' | 'base64'
}

/**
 * Read a workspace file for the code view: UTF-8 text as is, anything else
 * (a NUL byte, or bytes that are not valid UTF-8) as base64, like the
 * reference. Files over `maxBytes` are refused with `FILE_TOO_LARGE` (413)
 * pointing at the download route, so a request never loads a huge file.
 *
 * @example
 *   await readContent(storage, key, 'site/index.html') // { content: '<!doctype html>…', encoding: 'utf-8' }
 */
export async function readContent(
  storage: WorkspaceStorage,
  key: WorkspaceKey,
  relative: string,
  options: { maxBytes?: number } = {},
): Promise<FileContent> {
  const maxBytes = options.maxBytes ?? MAX_CONTENT_BYTES
  const { entry, body } = await storage.read(key, relative)
  if (entry.size > maxBytes) {
    body.destroy()
    throw new BerthError(
      'FILE_TOO_LARGE',
      `${relative} is ${entry.size} bytes, more than the ${maxBytes} bytes shown inline; ` +
        'download it instead (POST or GET /api/files/download).',
      { details: { path: relative, size: entry.size, limit: maxBytes } },
    )
  }
  // Only the size checked above: a file growing meanwhile cannot make this request bigger.
  const bytes = Buffer.alloc(entry.size)
  let filled = 0
  for await (const chunk of body) {
    const part = chunk as Buffer
    filled += part.copy(bytes, filled)
    if (filled >= entry.size) break
  }
  body.destroy()
  return encodeContent(bytes.subarray(0, filled))
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Text when the bytes are valid UTF-8 without NUL, base64 otherwise. */
export function encodeContent(bytes: Buffer): FileContent {
  if (!bytes.subarray(0, 8192).includes(0)) {
    try {
      return { content: utf8.decode(bytes), encoding: 'utf-8' }
    } catch {
      // not UTF-8: fall through to base64
    }
  }
  return { content: bytes.toString('base64'), encoding: 'base64' }
}

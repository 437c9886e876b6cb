import { open } from 'node:fs/promises'
import { BerthError } from '../../core/errors.js'
import type { Workspaces } from '../../workspace/workspaces.js'

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
 *   await readContent(workspaces, sessionId, 'site/index.html') // { content: '<!doctype html>…', encoding: 'utf-8' }
 */
export async function readContent(
  workspaces: Workspaces,
  sessionId: string,
  relative: string,
  options: { storedDir?: string | null; maxBytes?: number } = {},
): Promise<FileContent> {
  const maxBytes = options.maxBytes ?? MAX_CONTENT_BYTES
  const file = await workspaces.resolve(sessionId, relative, { storedDir: options.storedDir ?? null })
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw new BerthError('FILE_NOT_FOUND', `No such file: ${relative}`)
    }
    throw error
  })
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw new BerthError('PATH_INVALID', `Not a file: ${relative}`)
    if (info.size > maxBytes) {
      throw new BerthError(
        'FILE_TOO_LARGE',
        `${relative} is ${info.size} bytes, more than the ${maxBytes} bytes shown inline; ` +
          'download it instead (POST or GET /api/files/download).',
        { details: { path: relative, size: info.size, limit: maxBytes } },
      )
    }
    // Read only the size checked above: a file growing meanwhile cannot make this request bigger.
    const bytes = Buffer.alloc(info.size)
    const { bytesRead } = await handle.read(bytes, 0, info.size, 0)
    return encodeContent(bytes.subarray(0, bytesRead))
  } finally {
    await handle.close()
  }
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

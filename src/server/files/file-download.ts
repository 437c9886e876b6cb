import path from 'node:path'
import type { FastifyReply } from 'fastify'
import mime from 'mime-types'
import { BerthError } from '../../core/errors.js'
import type { WorkspaceKey, WorkspaceStorage } from '../../workspace/workspace-storage.js'
import { contentDisposition } from './content-disposition.js'
import { parseRange } from './http-range.js'

/**
 * Stream a workspace file as an attachment. A `Range` request gets 206 with
 * `Content-Range` (or 416), so the UI's audio and video players seek in a
 * long file (share links use it too). The headers describe the version the
 * storage actually opened.
 *
 * @example
 *   return sendFile(reply, storage, key, 'media/talk.mp4', request.headers.range)
 */
export async function sendFile(
  reply: FastifyReply,
  storage: WorkspaceStorage,
  key: WorkspaceKey,
  relative: string,
  rangeHeader?: string,
): Promise<FastifyReply> {
  const found = await storage.stat(key, relative)
  if (found === null) throw new BerthError('FILE_NOT_FOUND', `No such file: ${path.posix.basename(relative)}`)
  if (found.type === 'directory') {
    throw new BerthError('PATH_INVALID', 'Not a file; download a folder with /api/files/download-zip.')
  }
  if (found.type === 'symlink') {
    // A link leading out of the workspace, or nowhere: the read refuses it with the reason.
    ;(await storage.read(key, relative)).body.destroy()
    throw new BerthError('FILE_NOT_FOUND', `No such file: ${path.posix.basename(relative)}`)
  }
  const range = parseRange(rangeHeader, found.size)
  const read = range === 'unsatisfiable' ? null : await storage.read(key, relative, range === null ? {} : { range })
  const name = path.posix.basename(found.path)
  reply
    .header('content-type', mime.contentType(name) || 'application/octet-stream')
    .header('content-disposition', contentDisposition(name))
    .header('x-content-type-options', 'nosniff')
    .header('accept-ranges', 'bytes')
  if (read === null) {
    return reply
      .code(416)
      .header('content-type', 'text/plain; charset=utf-8')
      .header('content-range', `bytes */${found.size}`)
      .send('Range not satisfiable\n')
  }
  const { entry } = read
  reply.header('last-modified', new Date(entry.mtimeMs).toUTCString())
  if (read.range === undefined) return reply.header('content-length', entry.size).send(read.body)
  return reply
    .code(206)
    .header('content-range', `bytes ${read.range.start}-${read.range.end}/${entry.size}`)
    .header('content-length', read.range.end - read.range.start + 1)
    .send(read.body)
}

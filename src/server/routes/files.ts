import { open } from 'node:fs/promises'
import path from 'node:path'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import mime from 'mime-types'
import { z } from 'zod'
import { BerthError } from '../../core/errors.js'
import type { ServerContext } from '../context.js'
import { contentDisposition } from '../files/content-disposition.js'
import { readContent } from '../files/file-content.js'
import { listTree, MAX_TREE_DEPTH } from '../files/file-tree.js'
import { parseRange } from '../files/http-range.js'
import { workspaceForRequest } from '../files/workspace-access.js'
import { zipWorkspace } from '../files/zip-stream.js'

const WorkspaceId = z.string().min(1).max(128).describe('The session id (the workspace folder name).')
const FilePath = z.string().max(4096).describe('Relative to the workspace, e.g. `site/index.html`.')
const ListBody = z.object({
  workspace_id: WorkspaceId,
  path: FilePath.optional(),
  depth: z.coerce.number().int().min(1).max(MAX_TREE_DEPTH).optional().describe('Levels to list; 1 for lazy loading.'),
})
const FileBody = z.object({ workspace_id: WorkspaceId, path: FilePath })
const FolderBody = z.object({ workspace_id: WorkspaceId, path: FilePath.optional() })

// The tree is recursive: `children` repeats the node (a getter, as zod 4 spells recursion).
const FileNodeSchema = z.object({
  name: z.string(),
  type: z.enum(['file', 'folder']),
  path: z.string(),
  language: z.string(),
  size: z.number().int().optional(),
  get children(): z.ZodOptional<z.ZodArray<typeof FileNodeSchema>> {
    return z.array(FileNodeSchema).optional()
  },
  partial: z.boolean().optional(),
})
const ListReply = z.object({ files: z.array(FileNodeSchema), truncated: z.boolean() })
const ContentReply = z.object({ content: z.string(), encoding: z.enum(['utf-8', 'base64']) })
const BinaryReply = z.unknown().describe('The file (or zip) itself, streamed.')

/**
 * The workspace file routes of the reference (`POST /api/files/list`,
 * `/content`, `/download`, `/download-zip`), plus GET forms of the downloads
 * so a plain browser link works. Every `workspace_id` and `path` goes through
 * the one containment function; access is the session's device or the token.
 */
export const fileRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (plugin, { context }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>()
  const { workspaces } = context

  app.post(
    '/api/files/list',
    { schema: { tags: ['files'], body: ListBody, response: { 200: ListReply } } },
    async (request) => {
      const { body } = request
      const target = await workspaceForRequest(context, request, body.workspace_id)
      return listTree(workspaces, target.sessionId, body.path ?? '', body.depth ?? MAX_TREE_DEPTH, target)
    },
  )

  app.post(
    '/api/files/content',
    { schema: { tags: ['files'], body: FileBody, response: { 200: ContentReply } } },
    async (request) => {
      const { body } = request
      const target = await workspaceForRequest(context, request, body.workspace_id)
      return readContent(workspaces, target.sessionId, body.path, target)
    },
  )

  const download = async (request: FastifyRequest, reply: FastifyReply, input: z.output<typeof FileBody>) => {
    const { workspace_id, path: relative } = input
    const target = await workspaceForRequest(context, request, workspace_id)
    const file = await workspaces.resolve(target.sessionId, relative, { storedDir: target.storedDir })
    return sendFile(reply, file, request.headers.range)
  }
  const downloadZip = async (request: FastifyRequest, reply: FastifyReply, input: z.output<typeof FolderBody>) => {
    const { workspace_id, path: relative } = input
    const target = await workspaceForRequest(context, request, workspace_id)
    const zip = await zipWorkspace(workspaces, target.sessionId, relative ?? '', target)
    reply.header('content-type', 'application/zip').header('content-disposition', contentDisposition(zip.fileName))
    return reply.send(zip.stream)
  }
  const fileSchema = { tags: ['files'], response: { 200: BinaryReply } }
  app.post('/api/files/download', { schema: { ...fileSchema, body: FileBody } }, (request, reply) =>
    download(request, reply, request.body),
  )
  app.get('/api/files/download', { schema: { ...fileSchema, querystring: FileBody } }, (request, reply) =>
    download(request, reply, request.query),
  )
  app.post('/api/files/download-zip', { schema: { ...fileSchema, body: FolderBody } }, (request, reply) =>
    downloadZip(request, reply, request.body),
  )
  app.get('/api/files/download-zip', { schema: { ...fileSchema, querystring: FolderBody } }, (request, reply) =>
    downloadZip(request, reply, request.query),
  )
}

/**
 * Stream a file as an attachment; opened once, so what is sent is what was
 * checked. A `Range` request gets 206 with `Content-Range` (or 416), so the
 * UI's audio and video players seek in a long file (and share links use it too).
 */
export async function sendFile(reply: FastifyReply, file: string, rangeHeader?: string): Promise<FastifyReply> {
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw new BerthError('FILE_NOT_FOUND', `No such file: ${path.basename(file)}`)
    }
    throw error
  })
  const info = await handle.stat()
  if (!info.isFile()) {
    await handle.close()
    throw new BerthError('PATH_INVALID', 'Not a file; download a folder with /api/files/download-zip.')
  }
  const name = path.basename(file)
  reply
    .header('content-type', mime.contentType(name) || 'application/octet-stream')
    .header('content-disposition', contentDisposition(name))
    .header('x-content-type-options', 'nosniff')
    .header('last-modified', info.mtime.toUTCString())
    .header('accept-ranges', 'bytes')
  const range = parseRange(rangeHeader, info.size)
  if (range === 'unsatisfiable') {
    await handle.close()
    return reply
      .code(416)
      .header('content-type', 'text/plain; charset=utf-8')
      .header('content-range', `bytes */${info.size}`)
      .send('Range not satisfiable\n')
  }
  if (range === null) return reply.header('content-length', info.size).send(handle.createReadStream())
  return reply
    .code(206)
    .header('content-range', `bytes ${range.start}-${range.end}/${info.size}`)
    .header('content-length', range.end - range.start + 1)
    .send(handle.createReadStream({ start: range.start, end: range.end }))
}

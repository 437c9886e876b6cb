import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ServerContext } from '../context.js'
import { contentDisposition } from '../files/content-disposition.js'
import { readContent } from '../files/file-content.js'
import { sendFile } from '../files/file-download.js'
import { listTree, MAX_TREE_DEPTH } from '../files/file-tree.js'
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
  const storage = context.workspaceStorage

  app.post(
    '/api/files/list',
    { schema: { tags: ['files'], body: ListBody, response: { 200: ListReply } } },
    async (request) => {
      const { body } = request
      const target = await workspaceForRequest(context, request, body.workspace_id)
      return listTree(storage, target.key, body.path ?? '', body.depth ?? MAX_TREE_DEPTH)
    },
  )

  app.post(
    '/api/files/content',
    { schema: { tags: ['files'], body: FileBody, response: { 200: ContentReply } } },
    async (request) => {
      const { body } = request
      const target = await workspaceForRequest(context, request, body.workspace_id)
      return readContent(storage, target.key, body.path)
    },
  )

  const download = async (request: FastifyRequest, reply: FastifyReply, input: z.output<typeof FileBody>) => {
    const { workspace_id, path: relative } = input
    const target = await workspaceForRequest(context, request, workspace_id)
    return sendFile(reply, storage, target.key, relative, request.headers.range)
  }
  const downloadZip = async (request: FastifyRequest, reply: FastifyReply, input: z.output<typeof FolderBody>) => {
    const { workspace_id, path: relative } = input
    const target = await workspaceForRequest(context, request, workspace_id)
    const zip = await zipWorkspace(storage, target.key, relative ?? '', { name: target.sessionId })
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

import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { BerthError } from '../../core/errors.js'
import { workspaceKey } from '../../workspace/workspace-storage.js'
import type { ServerContext } from '../context.js'
import { readContent } from '../files/file-content.js'
import { sendFile } from '../files/file-download.js'
import { listTree, MAX_TREE_DEPTH } from '../files/file-tree.js'
import { sessionForShare } from './shares.js'

const TokenParams = z.object({ token: z.string().min(16).max(64) })
const FilePath = z.string().max(4096).describe('Relative to the workspace, e.g. `site/index.html`.')
const ListInput = z.object({
  path: FilePath.optional(),
  depth: z.coerce.number().int().min(1).max(MAX_TREE_DEPTH).optional().describe('Levels to list; default 1.'),
})
const ContentInput = z.object({ path: FilePath })

/**
 * Read-only workspace files for whoever holds a share link, so the shared
 * view shows the files it replays: `/api/share/<token>/files/list` (one
 * level by default) and `/content`, as GET (query) or POST (JSON body);
 * `GET /download` streams the file itself (with `Range`), for the replay's
 * image, audio and video players.
 * Hidden files stay out, as in the tree: a link shows what the tree shows.
 */
export const shareFileRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (plugin, { context }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>()
  const { workspaceStorage: storage, store } = context

  const target = async (token: string) => {
    const { share } = await sessionForShare(context, token)
    const session = await store.getSession(share.sessionId)
    if (!session) throw new BerthError('SHARE_NOT_FOUND', 'The shared session no longer exists.')
    return workspaceKey(storage, session)
  }

  const list = async (token: string, input: z.output<typeof ListInput> | undefined) => {
    const { path, depth } = input ?? {}
    const key = await target(token)
    refuseHidden(path ?? '')
    return listTree(storage, key, path ?? '', depth ?? 1)
  }
  const content = async (token: string, input: z.output<typeof ContentInput>) => {
    const { path } = input
    const key = await target(token)
    refuseHidden(path)
    return readContent(storage, key, path)
  }

  const download = async (token: string, input: z.output<typeof ContentInput>, reply: FastifyReply, range?: string) => {
    const key = await target(token)
    refuseHidden(input.path)
    return sendFile(reply, storage, key, input.path, range)
  }

  const params = TokenParams
  const tags = ['shares']
  app.post('/api/share/:token/files/list', { schema: { tags, params, body: ListInput.optional() } }, (request) =>
    list(request.params.token, request.body),
  )
  app.get('/api/share/:token/files/list', { schema: { tags, params, querystring: ListInput } }, (request) =>
    list(request.params.token, request.query),
  )
  app.post('/api/share/:token/files/content', { schema: { tags, params, body: ContentInput } }, (request) =>
    content(request.params.token, request.body),
  )
  app.get('/api/share/:token/files/content', { schema: { tags, params, querystring: ContentInput } }, (request) =>
    content(request.params.token, request.query),
  )
  app.get(
    '/api/share/:token/files/download',
    { schema: { tags, params, querystring: ContentInput } },
    (request, reply) => download(request.params.token, request.query, reply, request.headers.range),
  )
}

function refuseHidden(relative: string): void {
  if (relative.split(/[\\/]/).some((segment) => segment.startsWith('.') && segment !== '.')) {
    throw new BerthError('FILE_NOT_FOUND', `No such file: ${relative}`)
  }
}

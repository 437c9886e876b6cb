import { PassThrough, type Readable } from 'node:stream'
import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { importSessionBundle } from '../../bundle/import-session-bundle.js'
import { writeSessionBundle } from '../../bundle/write-session-bundle.js'
import { BerthError } from '../../core/errors.js'
import { sessionForRead } from '../access.js'
import type { ServerContext } from '../context.js'

const SessionParams = z.object({ id: z.string().min(1).max(128) })

/**
 * Portable session bundles over HTTP, the same format as `berth export` and
 * `berth import`: download one session, or upload a bundle to become a
 * session of the requesting device.
 */
export const bundleRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (plugin, { context }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>()
  const { store, workspaces } = context

  app.get(
    '/api/sessions/:id/export',
    { schema: { params: SessionParams, tags: ['sessions'] } },
    async (request, reply) => {
      const { id } = request.params
      await sessionForRead(context, request.requester, id)
      const body = new PassThrough()
      writeSessionBundle(store, context.workspaceStorage, id, body).catch((error: unknown) => {
        context.logger.error({ err: error, session: id }, 'exporting a session failed mid-stream')
        body.destroy(error instanceof Error ? error : new Error(String(error)))
      })
      reply
        .header('content-type', 'application/gzip')
        .header('content-disposition', `attachment; filename="berth-session-${id}.tar.gz"`)
      return reply.send(body)
    },
  )

  // The bundle arrives as the raw body, streamed to disk by the importer (never held whole in memory).
  app.addContentTypeParser(
    ['application/gzip', 'application/x-tar', 'application/octet-stream'],
    (_request, payload, done) => done(null, payload),
  )
  app.post(
    '/api/sessions/import',
    { schema: { tags: ['sessions'] }, bodyLimit: Number.MAX_SAFE_INTEGER },
    async (request) => {
      const { requester } = request
      if (!requester.deviceId && !requester.admin) {
        throw new BerthError('INVALID_REQUEST', 'Importing needs a device id (X-Device-Id) to own the session.')
      }
      if (typeof (request.body as { pipe?: unknown } | undefined)?.pipe !== 'function') {
        throw new BerthError(
          'UNSUPPORTED_MEDIA_TYPE',
          'Send the bundle as the body with Content-Type: application/gzip.',
        )
      }
      const result = await importSessionBundle(store, workspaces, request.body as Readable, {
        deviceId: requester.deviceId,
        storage: context.workspaceStorage,
      })
      return {
        session_id: result.sessionId,
        original_id: result.originalId,
        remapped: result.remapped,
        events: result.events,
        files: result.files,
        bytes: result.bytes,
      }
    },
  )
}

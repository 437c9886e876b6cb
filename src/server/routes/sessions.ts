import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { BerthError } from '../../core/errors.js'
import type { Store } from '../../store/store.js'
import type { EventPage, StoredEvent } from '../../store/types.js'
import { workspaceKey } from '../../workspace/workspace-storage.js'
import { sessionForRead, sessionForWrite } from '../access.js'
import type { ServerContext } from '../context.js'
import { presentEvent, presentSession } from '../presenters.js'

const DeviceParams = z.object({ device_id: z.string().min(1).max(128) })
const SessionParams = z.object({ id: z.string().min(1).max(128) })
const ListQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  /** Only sessions with this label, e.g. `gaia:<run name>`. */
  label: z.string().max(200).optional(),
})
const EventsQuery = z.object({
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
})
const SummaryBody = z.object({ summary: z.string().trim().min(1).max(500) })
const RenameBody = z.object({ name: z.string().trim().min(1).max(200) })

const COMPAT_REPLAY_MAX = 100_000

/** Events from the start, page after page, until the log ends or `max` were read. */
async function readUpTo(store: Store, sessionId: string, max: number): Promise<EventPage> {
  const events: StoredEvent[] = []
  let after = 0
  for (;;) {
    const page = await store.readEvents(sessionId, { after, limit: Math.min(10_000, max - events.length) })
    events.push(...page.events)
    if (page.nextAfter === null || events.length >= max) return { events, nextAfter: page.nextAfter }
    after = page.nextAfter
  }
}

/**
 * Sessions and their events, with the reference's paths and shapes plus
 * cursor paging (no 1000-event cap), rename and delete.
 */
export const sessionRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (plugin, { context }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>()
  const { store, workspaces, config } = context

  app.get(
    '/api/sessions/:device_id',
    { schema: { params: DeviceParams, querystring: ListQuery, tags: ['sessions'] } },
    async (request) => {
      const { device_id: deviceId } = request.params
      const { query, requester } = request
      if (!requester.admin && !config.iiAgentCompat && requester.deviceId !== deviceId) {
        throw new BerthError('ACCESS_DENIED', 'A device can list only its own sessions.')
      }
      const page = await store.listSessions(deviceId, {
        limit: query.limit ?? 50,
        cursor: query.cursor ?? null,
        label: query.label ?? null,
      })
      return { sessions: page.items.map((s) => presentSession(s, workspaces)), next_cursor: page.nextCursor }
    },
  )

  app.get(
    '/api/sessions/:id/events',
    { schema: { params: SessionParams, querystring: EventsQuery, tags: ['sessions'] } },
    async (request) => {
      const { id } = request.params
      const { query } = request
      const session = await sessionForRead(context, request.requester, id)
      const workspaceDir = workspaces.dirFor(session.id, session.workspaceDir)
      // The reference frontend reads one page and never follows next_after: under compat an unpaged request
      // gets the whole log (up to COMPAT_REPLAY_MAX), so its replay does not stop at 1000 events.
      const wholeLog = config.iiAgentCompat && query.limit === undefined && query.after === undefined
      const [page, total] = await Promise.all([
        wholeLog
          ? readUpTo(store, id, COMPAT_REPLAY_MAX)
          : store.readEvents(id, { after: query.after ?? 0, limit: query.limit ?? 1000 }),
        store.countEvents(id),
      ])
      return {
        events: page.events.map((event) => presentEvent(event, workspaceDir)),
        total_count: total,
        returned_count: page.events.length,
        next_after: page.nextAfter,
      }
    },
  )

  app.get('/api/sessions/:id/info', { schema: { params: SessionParams, tags: ['sessions'] } }, async (request) => {
    const { id } = request.params
    const session = await sessionForRead(context, request.requester, id)
    return { session: presentSession(session, workspaces), running: context.runs.isRunning(id) }
  })

  app.post(
    '/api/sessions/:id/summary',
    { schema: { params: SessionParams, body: SummaryBody, tags: ['sessions'] } },
    async (request) => {
      const { id } = request.params
      const { summary } = request.body
      await sessionForWrite(context, request.requester, id)
      await store.setSummary(id, summary)
      return { message: 'Summary updated successfully' }
    },
  )

  const renameSchema = { params: SessionParams, body: RenameBody, tags: ['sessions'] }
  for (const method of ['PATCH', 'POST'] as const) {
    app.route({
      method,
      url: method === 'PATCH' ? '/api/sessions/:id' : '/api/sessions/:id/rename',
      schema: renameSchema,
      handler: async (request) => {
        const { id } = request.params
        await sessionForWrite(context, request.requester, id)
        return { session: presentSession(await store.renameSession(id, request.body.name), workspaces) }
      },
    })
  }

  app.delete('/api/sessions/:id', { schema: { params: SessionParams, tags: ['sessions'] } }, async (request) => {
    const { id } = request.params
    const session = await sessionForWrite(context, request.requester, id)
    // Running here or on another instance.
    if (context.runs.isRunning(id) || session.status === 'running') {
      throw new BerthError('QUERY_IN_PROGRESS', 'The session is running; cancel it before deleting it.')
    }
    // An explicit user request: the events and the workspace go with the session, wherever it is kept.
    const key = await workspaceKey(context.workspaceStorage, session)
    const { eventsDeleted } = await store.deleteSession(id)
    await context.workspaceStorage.remove(key, '').catch((error: unknown) => {
      context.logger.warn({ err: error, session: id }, 'session deleted but its workspace could not be removed')
    })
    context.logger.info({ session: id, eventsDeleted }, 'session deleted on request')
    return { deleted: true, events_deleted: eventsDeleted }
  })
}

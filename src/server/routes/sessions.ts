import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { BerthError } from '../../core/errors.js'
import { requesterOf, sessionForRead, sessionForWrite } from '../access.js'
import type { ServerContext } from '../context.js'
import { presentEvent, presentSession } from '../presenters.js'
import { jsonSchema } from '../schema.js'

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

/**
 * Sessions and their events, with the reference's paths and shapes plus
 * cursor paging (no 1000-event cap), rename and delete.
 */
export const sessionRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (app, { context }) => {
  const { store, workspaces, config } = context

  app.get(
    '/api/sessions/:device_id',
    { schema: { params: jsonSchema(DeviceParams), querystring: jsonSchema(ListQuery), tags: ['sessions'] } },
    async (request) => {
      const { device_id: deviceId } = DeviceParams.parse(request.params)
      const query = ListQuery.parse(request.query)
      const requester = requesterOf(request, config.authToken)
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
    { schema: { params: jsonSchema(SessionParams), querystring: jsonSchema(EventsQuery), tags: ['sessions'] } },
    async (request) => {
      const { id } = SessionParams.parse(request.params)
      const query = EventsQuery.parse(request.query)
      const session = await sessionForRead(context, requesterOf(request, config.authToken), id)
      const workspaceDir = workspaces.dirFor(session.id, session.workspaceDir)
      const [page, total] = await Promise.all([
        store.readEvents(id, { after: query.after ?? 0, limit: query.limit ?? 1000 }),
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

  app.get(
    '/api/sessions/:id/info',
    { schema: { params: jsonSchema(SessionParams), tags: ['sessions'] } },
    async (request) => {
      const { id } = SessionParams.parse(request.params)
      const session = await sessionForRead(context, requesterOf(request, config.authToken), id)
      return { session: presentSession(session, workspaces), running: context.runs.isRunning(id) }
    },
  )

  app.post(
    '/api/sessions/:id/summary',
    { schema: { params: jsonSchema(SessionParams), body: jsonSchema(SummaryBody), tags: ['sessions'] } },
    async (request) => {
      const { id } = SessionParams.parse(request.params)
      const { summary } = SummaryBody.parse(request.body)
      await sessionForWrite(context, requesterOf(request, config.authToken), id)
      await store.setSummary(id, summary)
      return { message: 'Summary updated successfully' }
    },
  )

  const rename = async (request: FastifyRequest) => {
    const { id } = SessionParams.parse(request.params)
    const { name } = RenameBody.parse(request.body)
    await sessionForWrite(context, requesterOf(request, config.authToken), id)
    return { session: presentSession(await store.renameSession(id, name), workspaces) }
  }
  const renameSchema = { params: jsonSchema(SessionParams), body: jsonSchema(RenameBody), tags: ['sessions'] }
  app.patch('/api/sessions/:id', { schema: renameSchema }, rename)
  app.post('/api/sessions/:id/rename', { schema: renameSchema }, rename)

  app.delete(
    '/api/sessions/:id',
    { schema: { params: jsonSchema(SessionParams), tags: ['sessions'] } },
    async (request) => {
      const { id } = SessionParams.parse(request.params)
      const session = await sessionForWrite(context, requesterOf(request, config.authToken), id)
      if (context.runs.isRunning(id)) {
        throw new BerthError('QUERY_IN_PROGRESS', 'The session is running; cancel it before deleting it.')
      }
      // An explicit user request: the events and the workspace go with the session.
      const { eventsDeleted } = await store.deleteSession(id)
      await workspaces.remove(id, session.workspaceDir).catch((error: unknown) => {
        context.logger.warn({ err: error, session: id }, 'session deleted but its workspace could not be removed')
      })
      context.logger.info({ session: id, eventsDeleted }, 'session deleted on request')
      return { deleted: true, events_deleted: eventsDeleted }
    },
  )
}

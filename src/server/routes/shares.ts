import { randomBytes } from 'node:crypto'
import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { BerthError } from '../../core/errors.js'
import { dbTimestamp, isoUtc } from '../../core/time.js'
import type { ShareRecord } from '../../store/types.js'
import { sessionForWrite } from '../access.js'
import { publicBaseUrl } from '../base-url.js'
import type { ServerContext } from '../context.js'
import { isShareActive, presentEvent, presentShare } from '../presenters.js'

const SessionParams = z.object({ id: z.string().min(1).max(128) })
const TokenParams = z.object({ token: z.string().min(16).max(64) })
const RevokeParams = SessionParams.extend({ token: z.string().min(16).max(64) })
const CreateBody = z.object({
  /** Lifetime in seconds; omitted or null: no expiry. */
  expires_in: z
    .number()
    .int()
    .min(1)
    .max(10 * 365 * 86_400)
    .nullish(),
  /** Always make a new link instead of reusing the active one. */
  new: z.boolean().optional(),
})
const EventsQuery = z.object({
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
})

/** 192 random bits, URL-safe: the link is the credential, so it must not be guessable. */
export function newShareToken(): string {
  return randomBytes(24).toString('base64url')
}

/**
 * Resolve a share token to its session, or fail with one indistinguishable
 * 404 whether the token never existed, was revoked or has expired.
 */
export async function sessionForShare(context: ServerContext, token: string): Promise<{ share: ShareRecord }> {
  const share = await context.store.getShare(token)
  if (!share || !isShareActive(share)) {
    throw new BerthError('SHARE_NOT_FOUND', 'This share link does not exist, was revoked or has expired.')
  }
  return { share }
}

/**
 * Share links: the owner creates (or reuses), lists and revokes them; anyone
 * holding a token reads the session through `/api/share/<token>/…`.
 */
export const shareRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (plugin, { context }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>()
  const { store, config } = context

  app.post(
    '/api/sessions/:id/share',
    { schema: { params: SessionParams, body: CreateBody.optional(), tags: ['shares'] } },
    async (request) => {
      const { id } = request.params
      const body = request.body ?? {}
      const { requester } = request
      await sessionForWrite(context, requester, id)
      const base = publicBaseUrl(request, config)
      if (!body.new && body.expires_in == null) {
        const reusable = (await store.listShares(id)).find((share) => isShareActive(share) && share.expiresAt === null)
        if (reusable) return { share: presentShare(reusable, base), reused: true }
      }
      const expiresAt =
        body.expires_in == null ? null : dbTimestamp(BigInt(Date.now() + body.expires_in * 1000) * 1000n)
      const share = await store.createShare({
        token: newShareToken(),
        sessionId: id,
        expiresAt,
        createdBy: requester.deviceId,
      })
      return { share: presentShare(share, base), reused: false }
    },
  )

  app.get('/api/sessions/:id/shares', { schema: { params: SessionParams, tags: ['shares'] } }, async (request) => {
    const { id } = request.params
    await sessionForWrite(context, request.requester, id)
    const base = publicBaseUrl(request, config)
    return { shares: (await store.listShares(id)).map((share) => presentShare(share, base)) }
  })

  app.delete(
    '/api/sessions/:id/shares/:token',
    { schema: { params: RevokeParams, tags: ['shares'] } },
    async (request) => {
      const { id, token } = request.params
      await sessionForWrite(context, request.requester, id)
      const share = await store.getShare(token)
      if (!share || share.sessionId !== id) {
        throw new BerthError('SHARE_NOT_FOUND', 'No such share link for this session.')
      }
      const revoked = await store.revokeShare(token)
      return { share: presentShare(revoked ?? share, publicBaseUrl(request, config)) }
    },
  )

  // Public, read-only: what a share link shows.
  app.get('/api/share/:token', { schema: { params: TokenParams, tags: ['shares'] } }, async (request) => {
    const { token } = request.params
    const { share } = await sessionForShare(context, token)
    const session = await store.getSession(share.sessionId)
    if (!session) throw new BerthError('SHARE_NOT_FOUND', 'The shared session no longer exists.')
    return {
      session: {
        id: session.id,
        title: session.name ?? session.summary ?? null,
        created_at: isoUtc(session.createdAt),
        status: session.status,
        running: context.runs.isRunning(session.id),
        event_count: await store.countEvents(session.id),
      },
      share: { expires_at: isoUtc(share.expiresAt) },
    }
  })

  app.get(
    '/api/share/:token/events',
    { schema: { params: TokenParams, querystring: EventsQuery, tags: ['shares'] } },
    async (request) => {
      const { token } = request.params
      const { query } = request
      const { share } = await sessionForShare(context, token)
      const page = await store.readEvents(share.sessionId, { after: query.after ?? 0, limit: query.limit ?? 1000 })
      return {
        events: page.events.map((event) => presentEvent(event)),
        returned_count: page.events.length,
        next_after: page.nextAfter,
      }
    },
  )
}

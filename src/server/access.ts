import { timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { BerthError } from '../core/errors.js'
import type { SessionRecord } from '../store/types.js'
import type { ServerContext } from './context.js'
import { readCookie } from './cookies.js'

/** Who is asking: the device id they present, and whether they hold the server token. */
export interface Requester {
  deviceId: string | null
  /** Holds BERTH_AUTH_TOKEN: may act on every session. */
  admin: boolean
}

export const DEVICE_COOKIE = 'device_id'
export const TOKEN_COOKIE = 'berth_token'
const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/

/**
 * The device id comes from the reference UI's `device_id` cookie, an
 * `X-Device-Id` header, or a `device_id` query parameter (the WebSocket URL).
 */
export function requesterOf(request: FastifyRequest, authToken: string | undefined): Requester {
  const query = request.query as Record<string, unknown> | undefined
  const candidates = [
    readCookie(request.headers.cookie, DEVICE_COOKIE),
    headerValue(request.headers['x-device-id']),
    typeof query?.device_id === 'string' ? query.device_id : undefined,
  ]
  const deviceId = candidates.find((value) => value !== undefined && DEVICE_ID.test(value)) ?? null
  return { deviceId, admin: authToken !== undefined && tokenMatches(presentedToken(request), authToken) }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking, resolved once per request (`registerRequester`). */
    requester: Requester
  }
}

/**
 * Resolve the requester once per request, before the auth hook and every
 * handler read it as `request.requester`.
 *
 * @example
 *   registerRequester(app, config.authToken)
 *   app.get('/x', async (request) => request.requester.deviceId)
 */
export function registerRequester(app: FastifyInstance, authToken: string | undefined): void {
  app.decorateRequest('requester', null as unknown as Requester)
  app.addHook('onRequest', async (request) => {
    request.requester = requesterOf(request, authToken)
  })
}

/** The token a request presents: `Authorization: Bearer`, the `berth_token` cookie, or `?token=`. */
export function presentedToken(request: FastifyRequest): string | undefined {
  const auth = headerValue(request.headers.authorization)
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim()
  const cookie = readCookie(request.headers.cookie, TOKEN_COOKIE)
  if (cookie) return cookie
  const query = request.query as Record<string, unknown> | undefined
  return typeof query?.token === 'string' ? query.token : undefined
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false
  const a = Buffer.from(presented)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** May this requester act on (write to) the session? Owner device, token holder, or compat mode. */
export function canWrite(context: ServerContext, requester: Requester, session: SessionRecord): boolean {
  if (requester.admin || context.config.iiAgentCompat) return true
  return requester.deviceId !== null && session.deviceId === requester.deviceId
}

/** Load a session the requester may write to; 404 when missing, 403 when it belongs to someone else. */
export async function sessionForWrite(
  context: ServerContext,
  requester: Requester,
  sessionId: string,
): Promise<SessionRecord> {
  const session = await context.store.getSession(sessionId)
  if (!session) {
    throw new BerthError('SESSION_NOT_FOUND', `No session with id ${sessionId}.`)
  }
  if (!canWrite(context, requester, session)) {
    throw new BerthError(
      'ACCESS_DENIED',
      'This session belongs to another device. Open it from the device that created it, or use a share link to view it.',
    )
  }
  return session
}

/** Reading follows the same rule as writing; other people read through share links. */
export const sessionForRead = sessionForWrite

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

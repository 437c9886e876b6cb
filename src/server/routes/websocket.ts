import websocket from '@fastify/websocket'
import type { FastifyPluginAsync } from 'fastify'
import { newId } from '../../core/ids.js'
import { isValidSessionId } from '../../workspace/containment.js'
import { canWrite } from '../access.js'
import { publicBaseUrl } from '../base-url.js'
import type { ServerContext } from '../context.js'
import { SessionConnection } from '../ws/connection.js'
import { SocketQuery } from '../ws/messages.js'
import { sessionForShare } from './shares.js'

/** Frames larger than this close the connection with 1009 (the reference had no limit). */
const MAX_FRAME_BYTES = 1024 * 1024
const MAX_CONNECTIONS = 500

/**
 * `/ws`: the reference protocol. `session_uuid` reattaches to a session,
 * `after=<seq>` resumes exactly after the last event the client saw, and
 * `share=<token>` follows a shared session read-only.
 */
export const websocketRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (app, { context }) => {
  let active = 0
  await app.register(websocket, {
    options: { maxPayload: MAX_FRAME_BYTES },
    // @fastify/websocket's default terminates the socket on any error. For a protocol error (a frame over
    // the limit, bad UTF-8) ws has just queued its close frame (1009, 1007…); terminating raced it, and the
    // client sometimes saw 1006 instead. ws finishes those closes itself; anything else still ends the socket.
    errorHandler: (error, socket) => {
      if (String((error as { code?: unknown }).code).startsWith('WS_ERR_')) {
        context.logger.debug({ err: error, part: 'ws' }, 'WebSocket protocol error; closing with its code')
        return
      }
      context.logger.error({ err: error, part: 'ws' }, 'WebSocket handler failed')
      socket.terminate()
    },
  })

  app.get('/ws', { websocket: true }, async (socket, request) => {
    // Frames that arrive while we look the session up are kept, not dropped.
    const early: string[] = []
    const keepEarly = (data: Buffer, isBinary: boolean) => early.push(isBinary ? '' : data.toString())
    socket.on('message', keepEarly)
    active++
    socket.once('close', () => {
      active--
    })
    if (active > MAX_CONNECTIONS) {
      socket.close(1013, 'server busy, try again later')
      return
    }
    const parsed = SocketQuery.safeParse(request.query)
    if (!parsed.success) {
      socket.close(1008, 'invalid query parameters')
      return
    }
    const query = parsed.data
    const { requester } = request
    let sessionId: string
    let readOnly = false
    try {
      if (query.share) {
        sessionId = (await sessionForShare(context, query.share)).share.sessionId
        readOnly = true
      } else if (query.session_uuid) {
        if (!isValidSessionId(query.session_uuid)) {
          socket.close(1008, 'invalid session_uuid')
          return
        }
        sessionId = query.session_uuid
        const existing = await context.store.getSession(sessionId)
        // Reattaching to someone else's session is refused; the share link is the way to watch it.
        if (existing && !canWrite(context, requester, existing)) {
          socket.send(
            JSON.stringify({
              type: 'error',
              content: { message: 'This session belongs to another device.', error_code: 'ACCESS_DENIED' },
            }),
          )
          socket.close(1008, 'access denied')
          return
        }
      } else {
        sessionId = newId()
      }
    } catch (error) {
      socket.send(
        JSON.stringify({
          type: 'error',
          content: { message: String((error as Error).message), error_code: 'SHARE_NOT_FOUND' },
        }),
      )
      socket.close(1008, 'share link not found')
      return
    }
    if ((await context.store.getSession(sessionId)) === null) {
      // Remembered until the socket closes, so an upload for this id before the first query finds its device.
      socket.once('close', app.openSessions.claim(sessionId, requester.deviceId))
    }
    const connection = new SessionConnection(socket, context, {
      sessionId,
      requester,
      query,
      readOnly,
      publicUrl: publicBaseUrl(request, context.config),
      activeConnections: () => active,
    })
    socket.off('message', keepEarly)
    await connection.open()
    for (const raw of early) await connection.receive(raw)
  })
}

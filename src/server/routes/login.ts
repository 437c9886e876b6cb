import type { FastifyPluginAsync } from 'fastify'
import { BerthError } from '../../core/errors.js'
import { TOKEN_COOKIE, tokenMatches } from '../access.js'
import type { ServerContext } from '../context.js'
import { serializeCookie } from '../cookies.js'

/**
 * `GET /login?token=…`: a browser presents the server token once and gets it
 * back as an HttpOnly cookie, so the UI and the socket work without putting
 * the token in every URL.
 */
export const loginRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (app, { context }) => {
  app.get('/login', { schema: { hide: true } }, async (request, reply) => {
    const expected = context.config.authToken
    const token = (request.query as { token?: unknown }).token
    if (expected === undefined) return reply.redirect('/')
    if (typeof token !== 'string' || !tokenMatches(token, expected)) {
      throw new BerthError('AUTH_REQUIRED', 'That is not this server’s token.')
    }
    reply.header(
      'set-cookie',
      serializeCookie(TOKEN_COOKIE, token, {
        maxAgeSeconds: 365 * 86_400,
        httpOnly: true,
        secure: request.protocol === 'https',
      }),
    )
    return reply.redirect('/')
  })
}

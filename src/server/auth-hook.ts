import type { FastifyReply, FastifyRequest } from 'fastify'
import type { BerthConfig } from '../config/config.js'
import { BerthError } from '../core/errors.js'
import { isStaticSiteRequest } from './routes/static-sites.js'

/**
 * Paths anyone may reach even when BERTH_AUTH_TOKEN is set: health, share views, deployed sites, the UI
 * shell, and the operator's maintenance banner (the reference frontend's Next server asks for it with no token).
 */
const PUBLIC_PREFIXES = ['/healthz', '/readyz', '/share/', '/api/share/', '/workspace/', '/assets/', '/login']
const PUBLIC_EXACT = new Set(['/', '/index.html', '/favicon.ico', '/favicon.svg', '/api/maintenance_message'])

export function isPublicPath(url: string): boolean {
  const path = url.split('?')[0] ?? url
  return (
    PUBLIC_EXACT.has(path) ||
    PUBLIC_PREFIXES.some((prefix) => path === prefix.replace(/\/$/, '') || path.startsWith(prefix))
  )
}

/**
 * With a server token configured, every other request must present it
 * (bearer header, `berth_token` cookie, or `?token=` for WebSocket URLs);
 * `request.requester.admin` says whether it did (`registerRequester` runs first).
 */
export function createAuthHook(config: Pick<BerthConfig, 'authToken' | 'staticBaseUrl'>) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    if (config.authToken === undefined || request.requester.admin || isPublicPath(request.url)) return
    // Deployed sites on their own origin (STATIC_BASE_URL) are public like /workspace/.
    if (isStaticSiteRequest(request.headers.host, config)) return
    // A share link's read-only live follow: the socket checks the token and refuses every write.
    if (request.url.split('?')[0] === '/ws' && typeof (request.query as { share?: unknown }).share === 'string') return
    throw new BerthError(
      'AUTH_REQUIRED',
      'This berth server needs its access token: send "Authorization: Bearer <token>", or open /login?token=<token> once in the browser.',
    )
  }
}

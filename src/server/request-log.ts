import type { FastifyInstance } from 'fastify'
import type { Logger } from '../logging/logger.js'
import { pathOf } from './errors.js'

/**
 * Every request at debug, every rejection (status 400 and above) at info, with
 * method, route, status and error code. Never the token, the query string or
 * a body: the route is the registered pattern (`/api/share/:token`, not the
 * token itself); only an unmatched request logs its path.
 */
export function registerRequestLog(app: FastifyInstance, logger: Logger): void {
  const log = logger.child({ part: 'http' })
  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode
    // Most answers are successes and debug is usually off: cost them one level check, nothing more.
    if (status < 400 && !log.isLevelEnabled('debug')) return
    const route = request.routeOptions.url ?? `(unmatched) ${pathOf(request)}`
    const entry = { method: request.method, route, status, ms: Math.round(reply.elapsedTime * 10) / 10 }
    if (status >= 400) {
      log.info({ ...entry, code: reply.errorCode ?? undefined }, `rejected ${request.method} ${route}: ${status}`)
    } else {
      log.debug(entry, `${request.method} ${route} ${status}`)
    }
  })
}

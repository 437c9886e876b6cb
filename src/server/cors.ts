import cors, { type FastifyCorsOptions } from '@fastify/cors'
import type { FastifyInstance, FastifyRequest } from 'fastify'

/**
 * Which other origins' pages may call berth (`BERTH_CORS_ORIGINS`), e.g. the
 * reference ii-agent frontend on its own origin. None by default.
 *
 * - A listed origin is echoed back with `Access-Control-Allow-Credentials`,
 *   so a frontend the operator trusts may send its cookies.
 * - `*` answers `Access-Control-Allow-Origin: *` without credentials, which
 *   browsers accept only for requests that carry none.
 * - `Origin: null` (a page sandboxed by the deployed-site CSP, a file://
 *   page) is never allowed, so an agent-written page opened with the owner's
 *   cookie still reads nothing from the API.
 * - A request from any other origin gets no CORS headers at all, so the
 *   browser keeps the answer from the page (its preflight is not answered).
 *
 * @example
 *   await registerCors(app, ['https://ui.example.com'])
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return
  const listed = new Set(origins.filter((origin) => origin !== '*'))
  const anyOrigin = origins.includes('*')
  const common: FastifyCorsOptions = {
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Content-Type', 'Authorization', 'X-Device-Id', 'Range', 'If-None-Match'],
    exposedHeaders: ['Content-Disposition', 'Content-Length', 'Content-Range', 'ETag'],
    maxAge: 86_400,
  }
  await app.register(cors, {
    hook: 'onRequest',
    delegator: (request: FastifyRequest, callback) => {
      const origin = request.headers.origin
      if (origin === undefined || origin === 'null') return callback(null, { origin: false })
      if (listed.has(origin)) return callback(null, { ...common, origin, credentials: true })
      if (anyOrigin) return callback(null, { ...common, origin: '*', credentials: false })
      return callback(null, { origin: false })
    },
  })
}

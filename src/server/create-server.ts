import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http'
import { createRequire } from 'node:module'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerFactory } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { registerRequester } from './access.js'
import { createAuthHook } from './auth-hook.js'
import type { ServerContext } from './context.js'
import { registerCors } from './cors.js'
import { registerErrorHandlers } from './errors.js'
import { SiteServer, WORKSPACE_PREFIX } from './files/site-server.js'
import { registerOpenApi } from './openapi.js'
import { registerRequestLog } from './request-log.js'
import { adminRoutes } from './routes/admin.js'
import { bundleRoutes } from './routes/bundles.js'
import { evalRoutes } from './routes/eval.js'
import { fileRoutes } from './routes/files.js'
import { healthRoutes } from './routes/health.js'
import { loginRoutes } from './routes/login.js'
import { mediaRoutes } from './routes/media.js'
import { metricsRoutes } from './routes/metrics.js'
import { modelRoutes } from './routes/models.js'
import { sessionRoutes } from './routes/sessions.js'
import { shareFileRoutes } from './routes/share-files.js'
import { shareRoutes } from './routes/shares.js'
import { staticSiteRoutes } from './routes/static-sites.js'
import { summaryRoutes } from './routes/summary.js'
import { uploadRoutes } from './routes/upload.js'
import { webUiRoutes } from './routes/web-ui.js'
import { websocketRoutes } from './routes/websocket.js'
import { registerOpenSessions } from './ws/open-sessions.js'

const BERTH_VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version

/**
 * The HTTP app: every route group is a plugin that receives the context.
 *
 * @example
 *   const app = await createServer(context)
 *   await app.listen({ host, port })
 */
export async function createServer(
  context: ServerContext,
  options: { adopt?: AdoptableServer } = {},
): Promise<FastifyInstance> {
  // Request lines would drown the log; fastify's own warnings and errors still come through.
  const httpLogger = context.logger.child({ part: 'http' }, { level: 'warn' }) as FastifyBaseLogger
  const sites = new SiteServer(context.workspaceStorage)
  const app: FastifyInstance = Fastify({
    loggerInstance: httpLogger,
    trustProxy: true,
    routerOptions: { maxParamLength: 500 },
    serverFactory: withSiteFastPath(sites, (...args) => app.recordRequest(...args), options.adopt),
  })
  // Routes declare zod schemas; fastify validates (and coerces) with them once, before the handler.
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerErrorHandlers(app, context.logger)
  registerRequestLog(app, context.logger)
  // Hook order matters: who is asking, then CORS (a preflight carries no token), then the token check.
  registerRequester(app, context.config.authToken)
  registerOpenSessions(app)
  await registerCors(app, context.config.corsOrigins)
  app.addHook('onRequest', createAuthHook(context.config))

  await registerOpenApi(app, BERTH_VERSION)
  // Not encapsulated: the metrics' onResponse hook must see every route.
  await metricsRoutes(app, { context })
  await app.register(healthRoutes, { context })
  await app.register(loginRoutes, { context })
  // Route groups (one plugin each):
  await app.register(uploadRoutes, { context })
  await app.register(fileRoutes, { context })
  await app.register(staticSiteRoutes, { context, sites })
  await app.register(sessionRoutes, { context })
  await app.register(bundleRoutes, { context })
  await app.register(modelRoutes, { context })
  await app.register(summaryRoutes, { context })
  await app.register(mediaRoutes, { context })
  await app.register(shareRoutes, { context })
  await app.register(shareFileRoutes, { context })
  await app.register(evalRoutes, { context })
  await app.register(adminRoutes, { context })
  await app.register(websocketRoutes, { context })
  await app.register(webUiRoutes, { context })
  return app
}

/**
 * A server that listens already (berth serve's `UpgradeGate`): the app takes
 * it over instead of creating one, and the caller neither calls `listen` nor
 * relies on `app.close()` to close it. It hands requests over to `adopt`'s
 * handler once the app is ready.
 */
export interface AdoptableServer {
  readonly server: Server
  adopt(handler: RequestListener): void
}

/**
 * fastify's own HTTP/1 server (or an adopted one), with deployed-site files
 * held in memory answered before fastify sees the request
 * (`SiteServer.serveFromMemory`); everything else, and every other case of
 * those URLs, goes to fastify.
 */
function withSiteFastPath(
  sites: SiteServer,
  record: (method: string, route: string, status: number, seconds: number) => void,
  adopt?: AdoptableServer,
): FastifyServerFactory {
  return (handler, options) => {
    const listener: RequestListener = (req, res) => {
      const start = performance.now()
      if (sites.serveFromMemory(req, res)) {
        record(req.method ?? 'GET', `${WORKSPACE_PREFIX}*`, 200, (performance.now() - start) / 1000)
        return
      }
      handler(req, res)
    }
    adopt?.adopt(listener)
    const server = adopt?.server ?? createHttpServer(options.http ?? {}, listener)
    // As fastify sets up the server it creates itself (its options are loosely typed here).
    const { keepAliveTimeout, requestTimeout, connectionTimeout, maxRequestsPerSocket } = options
    if (typeof keepAliveTimeout === 'number') server.keepAliveTimeout = keepAliveTimeout
    if (typeof requestTimeout === 'number') server.requestTimeout = requestTimeout
    if (typeof connectionTimeout === 'number') server.setTimeout(connectionTimeout)
    if (typeof maxRequestsPerSocket === 'number' && maxRequestsPerSocket > 0) {
      server.maxRequestsPerSocket = maxRequestsPerSocket
    }
    return server
  }
}

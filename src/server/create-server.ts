import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { ServerContext } from './context.js'
import { healthRoutes } from './routes/health.js'

/**
 * The HTTP app: every route group is a plugin that receives the context.
 *
 * @example
 *   const app = await createServer(context)
 *   await app.listen({ host, port })
 */
export async function createServer(context: ServerContext): Promise<FastifyInstance> {
  // Request lines would drown the log; fastify's own warnings and errors still come through.
  const httpLogger = context.logger.child({ part: 'http' }, { level: 'warn' }) as FastifyBaseLogger
  const app = Fastify({ loggerInstance: httpLogger })
  await app.register(healthRoutes, { context })
  return app
}

import type { FastifyPluginAsync } from 'fastify'
import { listModels } from '../../llm/list-models.js'
import type { ServerContext } from '../context.js'

/** `GET /api/models`: the configured providers and their models, for the UI's model picker. */
export const modelRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (app, { context }) => {
  app.get('/api/models', { schema: { tags: ['models'] } }, async () => {
    const catalog = listModels(context.config)
    // Base URLs can point at private hosts; the picker does not need them.
    return { ...catalog, providers: catalog.providers.map(({ baseUrl: _hidden, ...provider }) => provider) }
  })
}

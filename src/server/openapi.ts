import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'

/**
 * The OpenAPI 3 document of the HTTP API, built by @fastify/swagger from the
 * zod schemas every route declares (the same ones that validate requests), served at `GET /openapi.json`.
 * Registered before the routes so it sees them all.
 */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    transform: jsonSchemaTransform,
    openapi: {
      info: {
        title: 'berth',
        version,
        description:
          'HTTP API of berth, compatible with the ii-agent reference paths. The WebSocket protocol lives at /ws.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'BERTH_AUTH_TOKEN, when set' } },
      },
    },
  })
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}

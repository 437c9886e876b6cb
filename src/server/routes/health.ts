import type { FastifyPluginAsync } from 'fastify'
import { type StoreHealth, storeHealth } from '../../doctor/store-health.js'
import { diskSpace } from '../../storage/checks.js'
import type { ServerContext } from '../context.js'

/**
 * `/healthz`: the process answers. `/readyz`: it can do its job: the store
 * takes a writer (how fast, and on PostgreSQL the pool's numbers), the disk has room, and whether the data will survive
 * (persistent, local or ephemeral), so the UI and platforms can show it.
 */
export const healthRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (app, { context }) => {
  app.get('/healthz', async () => ({ status: 'ok' }))

  app.get('/readyz', async (_request, reply) => {
    const { store, storage } = context
    let storeWritable = true
    let storeError: string | undefined
    let health: StoreHealth | undefined
    try {
      health = await storeHealth(store, 1)
    } catch (error) {
      storeWritable = false
      storeError = error instanceof Error ? error.message : String(error)
    }
    const space = await diskSpace(storage.paths.root)
    const ready = storeWritable && space.freeBytes > 0
    reply.code(ready ? 200 : 503)
    return {
      ready,
      store: {
        writable: storeWritable,
        backend: store.dialect,
        ...(health ? { pingMs: health.pingMs, ...(health.pool ? { pool: health.pool } : {}) } : {}),
        ...(storeError ? { error: storeError } : {}),
      },
      disk: { freeBytes: space.freeBytes, totalBytes: space.totalBytes },
      storage: {
        mode: storage.mode,
        persistent: storage.mode !== 'ephemeral',
        source: storage.choice.source,
        warnings: storage.durability.warnings,
      },
    }
  })
}

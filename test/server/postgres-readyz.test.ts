import { mkdir } from 'node:fs/promises'
import { afterAll, describe, expect, it } from 'vitest'
import type { RunManager } from '../../src/agent/runs.js'
import { loadConfig } from '../../src/config/config.js'
import { createLogger } from '../../src/logging/logger.js'
import { prepareDataRoot } from '../../src/runtime/storage-report.js'
import { createServer } from '../../src/server/create-server.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { hostShell } from '../../src/tools/bash/sandbox.js'
import { Workspaces } from '../../src/workspace/workspaces.js'
import {
  type PostgresCluster,
  postgresUnavailableReason,
  startPostgresCluster,
  TEST_PASSWORD,
} from '../helpers/postgres.js'
import { tempDir } from '../helpers/temp-dir.js'

const skip = postgresUnavailableReason()
if (skip) console.warn(`/readyz on PostgreSQL skipped: ${skip}`)

describe.skipIf(Boolean(skip))('/readyz on PostgreSQL', () => {
  // A cluster of its own: the test stops the server.
  let cluster: PostgresCluster | undefined
  afterAll(async () => {
    await cluster?.stop()
  })

  it('reports the backend, ping latency and pool; 503 naming DATABASE_URL while PostgreSQL is down, 200 once back', async () => {
    cluster = await startPostgresCluster()
    const url = await cluster.createDatabase()
    const root = await tempDir('berth-readyz-')
    const config = loadConfig({ flags: { dataDir: root }, env: { DATABASE_URL: url }, envFile: false })
    const storage = await prepareDataRoot({ dataDir: root, env: {} })
    const store = await PostgresStore.open({ url, poolSize: 3, connectTimeoutMs: 2000 })
    await mkdir(storage.paths.workspaces, { recursive: true })
    const workspaces = new Workspaces({ root: storage.paths.workspaces, quotaBytes: null })
    const app = await createServer({
      config,
      store,
      workspaces,
      workspaceStorage: workspaces.storage,
      storage,
      logger: createLogger({ level: 'silent', terminal: false }),
      runs: { isRunning: () => false } as unknown as RunManager,
      sandbox: hostShell('no shell in this test'),
    })
    try {
      const ready = await app.inject({ method: 'GET', url: '/readyz' })
      expect(ready.statusCode).toBe(200)
      expect(ready.json().store).toMatchObject({
        writable: true,
        backend: 'postgres',
        pingMs: expect.any(Number),
        pool: expect.objectContaining({ max: 3 }),
      })

      await cluster.pause()
      const down = await app.inject({ method: 'GET', url: '/readyz' })
      expect(down.statusCode).toBe(503)
      expect(down.json().store).toMatchObject({ writable: false, backend: 'postgres' })
      expect(down.json().store.error).toContain('DATABASE_URL')
      expect(down.body).not.toContain(TEST_PASSWORD)

      await cluster.resume()
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
    } finally {
      await app.close()
      await store.close()
    }
  })
})

import type { FastifyPluginAsync } from 'fastify'
import { isBerthError } from '../../core/errors.js'
import { type StoreHealth, storeHealth } from '../../doctor/store-health.js'
import { diskSpace } from '../../storage/checks.js'
import { S3WorkspaceStorage } from '../../workspace/s3/s3-storage.js'
import type { ServerContext } from '../context.js'

/** How long a passed bucket check stands in for the next probes. */
const S3_CHECK_REUSE_MS = 10_000

interface BucketReport {
  backend: 's3'
  reachable: boolean
  /** HeadBucket's time and the canary's (write, read back, delete), in ms. */
  bucketMs?: number
  canaryMs?: number
  /** Why not, naming the setting to check (STORAGE_UNAVAILABLE). */
  error?: string
  code?: string
}

const round = (ms: number) => Math.round(ms * 100) / 100

/**
 * `/healthz`: the process answers. `/readyz`: it can do its job: the store
 * takes a writer (how fast, and on PostgreSQL the pool's numbers), the disk has room, and whether the data will survive
 * (persistent, local or ephemeral), so the UI and platforms can show it.
 * With S3 workspaces, the bucket answers and takes a write (`workspaces`).
 */
export const healthRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (app, { context }) => {
  app.get('/healthz', async () => ({ status: 'ok' }))

  // The S3 check (HeadBucket and a write canary, s3-storage.ts) costs three requests, and platforms probe
  // every few seconds: a success is reused for a while, a failure never, and concurrent probes share one check.
  const s3 = context.workspaceStorage instanceof S3WorkspaceStorage ? context.workspaceStorage : null
  let lastSuccess: { at: number; report: BucketReport } | null = null
  let running: Promise<{ ok: boolean; report: BucketReport }> | null = null
  const bucketCheck = async (): Promise<{ ok: boolean; report: BucketReport } | null> => {
    if (!s3) return null
    if (lastSuccess && performance.now() - lastSuccess.at < S3_CHECK_REUSE_MS)
      return { ok: true, report: lastSuccess.report }
    running ??= s3
      .check()
      .then(({ bucketMs, canaryMs }) => {
        const report: BucketReport = {
          backend: 's3',
          reachable: true,
          bucketMs: round(bucketMs),
          canaryMs: round(canaryMs),
        }
        lastSuccess = { at: performance.now(), report }
        return { ok: true, report }
      })
      .catch((error: unknown) => {
        lastSuccess = null
        const report: BucketReport = {
          backend: 's3',
          reachable: false,
          error: error instanceof Error ? error.message : String(error),
          ...(isBerthError(error) ? { code: error.code } : {}),
        }
        return { ok: false, report }
      })
      .finally(() => {
        running = null
      })
    return running
  }

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
    const bucket = await bucketCheck()
    const ready = storeWritable && space.freeBytes > 0 && (bucket === null || bucket.ok)
    reply.code(ready ? 200 : 503)
    return {
      ready,
      store: {
        writable: storeWritable,
        backend: store.dialect,
        ...(health ? { pingMs: health.pingMs, ...(health.pool ? { pool: health.pool } : {}) } : {}),
        ...(storeError ? { error: storeError } : {}),
      },
      ...(bucket ? { workspaces: bucket.report } : {}),
      disk: { freeBytes: space.freeBytes, totalBytes: space.totalBytes },
      storage: {
        // Sessions in PostgreSQL and workspaces in a bucket: what the data root holds (logs) is not what users keep.
        mode: store.dialect === 'postgres' && s3 !== null ? 'external' : storage.mode,
        persistent: (store.dialect === 'postgres' && s3 !== null) || storage.mode !== 'ephemeral',
        source: storage.choice.source,
        warnings: storage.durability.warnings,
      },
    }
  })
}

import type { FastifyPluginAsync } from 'fastify'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { type StoreHealth, storeHealth } from '../../doctor/store-health.js'
import { diskSpace } from '../../storage/checks.js'
import { observeS3 } from '../../workspace/s3/request-observer.js'
import type { ServerContext } from '../context.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Count a request answered outside fastify's lifecycle (the static-site fast path). */
    recordRequest(method: string, route: string, status: number, seconds: number): void
  }
}

/**
 * `GET /metrics` in Prometheus text format: process metrics, HTTP requests
 * by route and status, and gauges read on each scrape (sessions, events,
 * free disk, whether storage is persistent), the database (a ping's
 * latency and, on PostgreSQL, the pool) and, with S3 workspaces, the
 * requests sent to the bucket and the read cache's hit ratio.
 */
export const metricsRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (app, { context }) => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'berth_' })

  const requests = new Counter({
    name: 'berth_http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  })
  const durations = new Histogram({
    name: 'berth_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  })
  new Gauge({
    name: 'berth_sessions',
    help: 'Sessions stored',
    registers: [registry],
    async collect() {
      // With the database down the scrape still answers, with NaN here (berth_database_up says why).
      const counts = await context.store.counts().catch(() => null)
      this.set(counts?.sessions ?? Number.NaN)
      events.set(counts?.events ?? Number.NaN)
    },
  })
  const events = new Gauge({ name: 'berth_events', help: 'Events stored', registers: [registry] })
  new Gauge({
    name: 'berth_disk_free_bytes',
    help: 'Free space on the data root’s filesystem',
    registers: [registry],
    async collect() {
      this.set((await diskSpace(context.storage.paths.root)).freeBytes)
    },
  })
  new Gauge({
    name: 'berth_storage_persistent',
    help: '1 when the data root survives restarts and redeploys, 0 when it is ephemeral',
    registers: [registry],
    collect() {
      this.set(context.storage.mode === 'ephemeral' ? 0 : 1)
    },
  })

  // One ping per scrape, shared by the database gauges (prom-client collects them concurrently).
  let probe: Promise<StoreHealth | null> | null = null
  const health = () => {
    probe ??= storeHealth(context.store, 1).catch(() => null)
    return probe
  }
  new Gauge({
    name: 'berth_database_up',
    help: '1 when the database took a write transaction at this scrape, 0 when it failed',
    registers: [registry],
    async collect() {
      this.set((await health()) ? 1 : 0)
    },
  })
  new Gauge({
    name: 'berth_database_ping_seconds',
    help: 'Time of one write transaction on the database at this scrape (NaN when it failed)',
    registers: [registry],
    async collect() {
      const answer = await health()
      this.set(answer ? answer.pingMs / 1000 : Number.NaN)
    },
  })
  if (context.store.dialect === 'postgres') {
    new Gauge({
      name: 'berth_database_pool_connections',
      help: "This instance's PostgreSQL pool: open connections (total), idle ones, and queries waiting for one",
      labelNames: ['state'] as const,
      registers: [registry],
      async collect() {
        const pool = (await health())?.pool
        if (!pool) return
        this.set({ state: 'total' }, pool.total)
        this.set({ state: 'idle' }, pool.idle)
        this.set({ state: 'waiting' }, pool.waiting)
      },
    })
    new Gauge({
      name: 'berth_database_pool_max',
      help: "The largest size of this instance's PostgreSQL pool (BERTH_DATABASE_POOL_SIZE)",
      registers: [registry],
      async collect() {
        const pool = (await health())?.pool
        if (pool) this.set(pool.max)
      },
    })
  }

  if (context.workspaceStorage.kind === 's3') {
    const s3Requests = new Counter({
      name: 'berth_s3_requests_total',
      help: 'Requests sent to the S3 bucket by operation (GetObject, PutObject, HeadObject…)',
      labelNames: ['operation'] as const,
      registers: [registry],
    })
    const s3Errors = new Counter({
      name: 'berth_s3_request_errors_total',
      help: 'S3 requests that failed, by operation and HTTP status ("none": no answer); a HeadObject 404 is a missing file',
      labelNames: ['operation', 'status'] as const,
      registers: [registry],
    })
    const s3Durations = new Histogram({
      name: 'berth_s3_request_duration_seconds',
      help: 'S3 request time by operation, retries included',
      labelNames: ['operation'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    })
    const lookups = new Counter({
      name: 'berth_s3_read_cache_lookups_total',
      help: 'Reads that asked the local copy of small files first: hit (served without a request) or miss',
      labelNames: ['result'] as const,
      registers: [registry],
    })
    let hits = 0
    let misses = 0
    new Gauge({
      name: 'berth_s3_read_cache_hit_ratio',
      help: 'Share of read cache lookups served locally since start (0 before the first)',
      registers: [registry],
      collect() {
        this.set(hits + misses === 0 ? 0 : hits / (hits + misses))
      },
    })
    const stop = observeS3({
      request({ operation, seconds, failedStatus }) {
        s3Requests.inc({ operation })
        s3Durations.observe({ operation }, seconds)
        if (failedStatus !== undefined) s3Errors.inc({ operation, status: String(failedStatus ?? 'none') })
      },
      cacheLookup(hit) {
        if (hit) hits++
        else misses++
        lookups.inc({ result: hit ? 'hit' : 'miss' })
      },
    })
    app.addHook('onClose', async () => stop())
  }

  const record = (method: string, route: string, status: number, seconds: number): void => {
    requests.inc({ method, route, status: String(status) })
    durations.observe({ route }, seconds)
  }
  app.decorate('recordRequest', record)
  // Counted globally, so the hook sits on the root instance.
  app.addHook('onResponse', async (request, reply) => {
    record(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
  })

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', registry.contentType)
    probe = null
    return registry.metrics()
  })
}

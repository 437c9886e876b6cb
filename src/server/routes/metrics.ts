import type { FastifyPluginAsync } from 'fastify'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { diskSpace } from '../../storage/checks.js'
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
 * free disk, whether storage is persistent).
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
      const counts = await context.store.counts()
      this.set(counts.sessions)
      events.set(counts.events)
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
    return registry.metrics()
  })
}

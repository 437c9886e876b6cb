import Fastify, { type FastifyInstance } from 'fastify'
import { prepareDataRoot } from '../../src/runtime/storage-report.js'
import type { ServerContext } from '../../src/server/context.js'
import { healthRoutes } from '../../src/server/routes/health.js'
import { metricsRoutes } from '../../src/server/routes/metrics.js'
import type { Store } from '../../src/store/store.js'
import type { WorkspaceStorage } from '../../src/workspace/workspace-storage.js'

/**
 * `/metrics` and `/readyz` in this process over a given store and workspace
 * storage (berth serve does not open PostgreSQL or S3 from its settings yet):
 * the real route plugins, on a real socket.
 */
export async function startHealthApp(options: {
  root: string
  store: Store
  workspaceStorage: WorkspaceStorage
}): Promise<{ app: FastifyInstance; url: string }> {
  const storage = await prepareDataRoot({ dataDir: options.root, env: {} })
  // The two plugins read only these parts of the context.
  const context = { store: options.store, workspaceStorage: options.workspaceStorage, storage } as ServerContext
  const app = Fastify()
  await app.register(metricsRoutes, { context })
  await app.register(healthRoutes, { context })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url }
}

/** One sample of a Prometheus text exposition: `name{a="b"} 1`. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const match = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/)
    if (!match) throw new Error(`not a sample: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1] as string] = pair[2] as string
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) })
  }
  return samples
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when none. */
export function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  )
  if (found.length > 1) throw new Error(`${found.length} samples match ${name} ${JSON.stringify(labels)}`)
  return found[0]?.value
}

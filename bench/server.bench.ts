/**
 * bench:server — the static-file benchmark against nginx
 * (bench/server-static.bench.ts), then event fan-out latency to 50 WebSocket
 * viewers, and HTTP latency of the session list and an event page on a
 * 10,000-session, 1,000,000-event database.
 *
 *   npm run bench:server   (BENCH_SESSIONS, BENCH_EVENTS_PER_SESSION, BENCH_RATE, BENCH_SECONDS to resize)
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { FastifyInstance } from 'fastify'
import { createRunManager } from '../src/agent/create-run-manager.js'
import { loadConfig } from '../src/config/config.js'
import { openRuntime, type Runtime } from '../src/runtime/runtime.js'
import { createServer } from '../src/server/create-server.js'
import { BIG_SESSION, BIG_SESSION_DEVICE, generateLargeDb } from './large-db.js'
import { fmt, median, percentile, timeRuns } from './stats.js'

const VIEWERS = 50
const RATE = Number(process.env.BENCH_RATE ?? 1000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000)
const EVENTS_PER_SESSION = Number(process.env.BENCH_EVENTS_PER_SESSION ?? 100)

async function startApp(root: string): Promise<{ runtime: Runtime; app: FastifyInstance; base: string }> {
  const config = loadConfig({ flags: { dataDir: root, logLevel: 'warn' }, env: {}, envFile: false })
  const runtime = await openRuntime(config, { role: 'server', command: 'bench', terminalLogs: false })
  const app = await createServer({ ...runtime, runs: createRunManager(runtime) })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return { runtime, app, base: `127.0.0.1:${(app.server.address() as { port: number }).port}` }
}

async function fanOut(root: string): Promise<void> {
  const { runtime, app, base } = await startApp(root)
  const sessionId = 'fanout-session'
  await runtime.store.createSession({
    id: sessionId,
    workspaceDir: join(root, 'workspace', sessionId),
    deviceId: 'bench',
  })
  const total = RATE * SECONDS
  const worker = new Worker(fileURLToPath(new URL('./fanout-clients.mjs', import.meta.url)), {
    workerData: { url: `ws://${base}/ws?device_id=bench&session_uuid=${sessionId}`, viewers: VIEWERS, expected: total },
  })
  const result = new Promise<number[]>((resolve, reject) => {
    worker.on('message', (message: { type: string; latencies?: number[] }) => {
      if (message.type === 'done') resolve(message.latencies ?? [])
    })
    worker.on('error', reject)
  })
  await new Promise<void>((resolve) => worker.once('message', () => resolve()))
  // Let the viewers' follow() go live before the first append.
  await new Promise((r) => setTimeout(r, 200))

  // Append at a steady RATE, in 10 ms ticks.
  const perTick = RATE / 100
  const start = performance.now()
  let sent = 0
  while (sent < total) {
    const due = Math.min(total, Math.round(((performance.now() - start) / 1000) * RATE) + perTick)
    const batch: Promise<unknown>[] = []
    for (; sent < due; sent++) {
      batch.push(
        runtime.store.append(sessionId, {
          type: 'tool_result',
          content: {
            tool_call_id: `c${sent}`,
            tool_name: 'bench',
            result: 'x'.repeat(200),
            sent_at: performance.timeOrigin + performance.now(),
          },
        }),
      )
    }
    await Promise.all(batch)
    await new Promise((r) => setTimeout(r, 10))
  }
  const latencies = await result
  const elapsed = (performance.now() - start) / 1000
  await worker.terminate()
  await app.close()
  await runtime.close()
  console.log(
    `Event fan-out: ${VIEWERS} viewers of one session, ${fmt(total / elapsed, 0)} events/s appended for ${fmt(elapsed, 1)} s`,
  )
  console.log(
    `  delivery latency (append call → frame received)  p50 ${fmt(median(latencies))} ms  p99 ${fmt(percentile(latencies, 99))} ms  max ${fmt(latencies.reduce((a, b) => Math.max(a, b), 0))} ms  (targets 5 ms / 20 ms; ${fmt(latencies.length, 0)} deliveries)`,
  )
}

async function httpLatency(root: string): Promise<void> {
  const generated = await generateLargeDb(root, SESSIONS, EVENTS_PER_SESSION)
  console.log(
    `\nHTTP on ${fmt(SESSIONS, 0)} sessions / ${fmt(generated.events, 0)} events (generated in ${fmt(generated.seconds, 1)} s)`,
  )
  const { runtime, app, base } = await startApp(root)
  const get = async (path: string, device: string) => {
    const response = await fetch(`http://${base}${path}`, { headers: { 'x-device-id': device } })
    if (!response.ok) throw new Error(`${path}: ${response.status}`)
    return response.json()
  }
  const list = await timeRuns(200, () => get('/api/sessions/device-7?limit=50', 'device-7'))
  const firstPage = await timeRuns(100, () => get(`/api/sessions/${BIG_SESSION}/events?limit=1000`, BIG_SESSION_DEVICE))
  const deepPage = await timeRuns(100, () =>
    get(`/api/sessions/${BIG_SESSION}/events?after=9000&limit=1000`, BIG_SESSION_DEVICE),
  )
  console.log(
    `  GET /api/sessions/:device (newest 50)        median ${fmt(median(list))} ms  p99 ${fmt(percentile(list, 99))} ms`,
  )
  console.log(
    `  GET /api/sessions/:id/events (1,000 events)  median ${fmt(median(firstPage))} ms  p99 ${fmt(percentile(firstPage, 99))} ms`,
  )
  console.log(
    `  same, after=9000 (the last page)             median ${fmt(median(deepPage))} ms  p99 ${fmt(percentile(deepPage, 99))} ms`,
  )
  await app.close()
  await runtime.close()
}

// Static files first, in their own process, on a quiet machine: after a million-row database was
// written and deleted, the kernel's background work skews the req/s of whatever runs next.
console.log('bench:server\n\nStatic files (bench/server-static.bench.ts):')
spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./server-static.bench.ts', import.meta.url))], {
  stdio: 'inherit',
})

const dirs: string[] = []
try {
  console.log()
  const fanoutRoot = await mkdtemp(join(tmpdir(), 'berth-bench-fanout-'))
  dirs.push(fanoutRoot)
  await fanOut(fanoutRoot)
  const largeRoot = await mkdtemp(join(tmpdir(), 'berth-bench-http-'))
  dirs.push(largeRoot)
  await httpLatency(largeRoot)
} finally {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
}

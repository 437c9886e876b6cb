/**
 * The multi-instance rows of bench:scale (bench/scale.bench.ts): real
 * `berth serve` processes on one PostgreSQL database, measured from outside
 * as a user would see them.
 *
 * - fanOut: viewers of one session spread over the instances, while this
 *   process appends to that session through the real PostgresStore (as a
 *   fourth instance would). Latency of each delivered event = its arrival
 *   at a viewer − the writer's commit (the append's promise resolving), both
 *   on this process's clock.
 * - takeover: an instance running a session whose model hangs is SIGKILLed;
 *   the time until a viewer on another instance sees
 *   `agent_response_interrupted` (reason `crashed`).
 * - staticRps: one uploaded workspace file at `/workspace/<session>/<path>`
 *   loaded with wrk, from a berth whose workspaces are on S3 (radosgw) and
 *   from one on local disk.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import WebSocket from 'ws'
import { PostgresStore } from '../src/store/postgres/postgres-store.js'
import { type BerthProcess, startServer } from '../test/helpers/berth-process.js'
import { startScriptedOpenAi } from '../test/helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../test/helpers/scripted-llm/scripted-server.js'
import { connect, type TestSocket } from '../test/helpers/ws-client.js'

const run = promisify(execFile)
export const DEVICE = 'bench-scale'

export type Instance = BerthProcess & { url: string; port: number }

/** Starts `berth serve` processes on temp data folders and stops and removes them all at the end. */
export class Instances {
  private readonly started: { server: Instance; dir: string }[] = []

  constructor(private readonly env: Record<string, string>) {}

  async start(extraEnv: Record<string, string> = {}): Promise<Instance> {
    const dir = await mkdtemp(join(tmpdir(), 'berth-bench-scale-'))
    const server = await startServer({
      cwd: dir,
      env: { ...this.env, ...extraEnv },
      args: ['--data-dir', dir],
      readyTimeoutMs: 120_000,
    })
    this.started.push({ server, dir })
    return server
  }

  async stopAll(): Promise<void> {
    for (const { server, dir } of this.started.splice(0)) {
      await server.stop('SIGTERM').catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** The environment every instance shares: the database, a scripted model, logs that show the listening line. */
export function instanceEnv(databaseUrl: string, llm: ScriptedLlm): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    CHUTES_API_KEY: 'bench-key',
    CHUTES_BASE_URL: llm.url,
    BERTH_LLM_RETRY_DELAY_MS: '1',
    BERTH_LLM_MAX_RETRIES: '1',
    BERTH_LOG_LEVEL: 'info',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  }
}

export function wsUrl(server: Instance, sessionId: string | null, after?: number): string {
  const query = new URLSearchParams({ device_id: DEVICE })
  if (sessionId) query.set('session_uuid', sessionId)
  if (after !== undefined) query.set('after', String(after))
  return `${server.url.replace('http', 'ws')}/ws?${query}`
}

/** A new session, made by opening a socket without a session id on `server`. */
export async function newSession(server: Instance): Promise<{ socket: TestSocket; sessionId: string }> {
  const socket = await connect(wsUrl(server, null))
  const hello = await socket.next('connection_established')
  return { socket, sessionId: hello.content.session_uuid as string }
}

const SEQ = /"seq":\s*(\d+)/

export interface FanOutResult {
  latenciesMs: number[]
  delivered: number
  expected: number
  /** Viewers that missed a seq, got one twice, or got them out of order. */
  badViewers: string[]
  /** Events/s the writer reached: all appends over the time until the last one committed. */
  writerRate: number
  /** Events some viewer got later than SLOW_MS after commit, and when (s into the run) they were committed. */
  slow: { events: number; fromS: number; toS: number }
}

/** The fan-out target's p99. */
export const SLOW_MS = 50

/**
 * `viewers` raw sockets on `session`, spread round-robin over `servers`,
 * while the writer appends `rate` events/s for `seconds` through its own
 * PostgresStore. Each event's content carries its index and send time.
 */
export async function fanOut(options: {
  servers: Instance[]
  databaseUrl: string
  sessionId: string
  viewers: number
  rate: number
  seconds: number
}): Promise<FanOutResult> {
  const { servers, sessionId, viewers, rate, seconds } = options
  const writer = await PostgresStore.open({ url: options.databaseUrl, poolSize: 4 })
  const sockets: WebSocket[] = []
  try {
    // The session as berth makes it on a first query (src/server/ws/connection.ts ensureSession), with no events yet.
    await writer.createSession({ id: sessionId, workspaceDir: `/bench/${sessionId}`, deviceId: DEVICE })
    const startSeq = await writer.countEvents(sessionId)
    const total = rate * seconds
    const committedAt = new Map<number, number>()
    // arrivals[v] = [seq, arrival ms] in arrival order
    const arrivals: [number, number][][] = []
    const allIn = new Set<number>()
    let doneResolve: () => void = () => undefined
    const allDone = new Promise<void>((resolve) => {
      doneResolve = resolve
    })
    for (let v = 0; v < viewers; v++) {
      const server = servers[v % servers.length] as Instance
      const mine: [number, number][] = []
      arrivals.push(mine)
      const ws = new WebSocket(wsUrl(server, sessionId, startSeq))
      sockets.push(ws)
      ws.on('message', (data) => {
        const at = performance.now()
        // 50 viewers at 1,000 events/s are 50,000 frames/s into this one process: read the two fields
        // with a regex rather than parsing each frame, so the measuring side adds less delay of its own.
        const text = data.toString()
        if (!text.includes('"bench_n"')) return
        const seq = SEQ.exec(text)
        if (seq === null) return
        mine.push([Number(seq[1]), at])
        if (mine.length === total) {
          allIn.add(v)
          if (allIn.size === viewers) doneResolve()
        }
      })
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve())
        ws.once('error', reject)
      })
    }
    // Let every socket's follow start before the first append.
    await new Promise((resolve) => setTimeout(resolve, 500))

    const appends: Promise<void>[] = []
    const start = performance.now()
    let sent = 0
    while (sent < total) {
      // Catch up to the schedule: event n is due at start + n/rate.
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1)
      for (; sent < due; sent++) {
        const n = sent
        appends.push(
          writer
            .append(sessionId, {
              type: 'agent_thinking',
              content: { text: `tick ${n}`, bench_n: n, sent_at: Date.now() },
            })
            .then((stored) => {
              committedAt.set(stored.seq, performance.now())
            }),
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await Promise.all(appends)
    const writerRate = total / ((performance.now() - start) / 1000)
    await Promise.race([allDone, new Promise((resolve) => setTimeout(resolve, 30_000))])

    const latenciesMs: number[] = []
    const badViewers: string[] = []
    // Where in the run the slow deliveries were: one stall, or spread over the whole run.
    const slowSeqs = new Set<number>()
    let slowFrom = Number.POSITIVE_INFINITY
    let slowTo = 0
    let delivered = 0
    arrivals.forEach((mine, v) => {
      delivered += mine.length
      const seqs = mine.map(([seq]) => seq)
      const inOrder = seqs.every((seq, i) => seq === startSeq + 1 + i)
      if (!inOrder || seqs.length !== total) {
        const distinct = new Set(seqs).size
        badViewers.push(`viewer ${v}: ${seqs.length} frames, ${distinct} distinct, in order ${inOrder}`)
      }
      for (const [seq, at] of mine) {
        const committed = committedAt.get(seq)
        if (committed === undefined) continue
        latenciesMs.push(at - committed)
        if (at - committed > SLOW_MS) {
          slowSeqs.add(seq)
          slowFrom = Math.min(slowFrom, (committed - start) / 1000)
          slowTo = Math.max(slowTo, (committed - start) / 1000)
        }
      }
    })
    const slow = { events: slowSeqs.size, fromS: slowFrom, toS: slowTo }
    return { latenciesMs, delivered, expected: total * viewers, badViewers, writerRate, slow }
  } finally {
    for (const ws of sockets) ws.terminate()
    await writer.close()
  }
}

/**
 * One takeover round: a fresh instance runs a query whose model hangs, a
 * viewer on `watcher` follows the session, the instance is SIGKILLed.
 * Returns ms from the kill until the viewer sees the `crashed` interruption.
 */
export async function takeoverRound(instances: Instances, watcher: Instance, llm: ScriptedLlm): Promise<number> {
  const victim = await instances.start()
  const { socket, sessionId } = await newSession(victim)
  let viewer: TestSocket | undefined
  try {
    llm.enqueue({ text: 'thinking…', hang: true })
    const before = llm.requests.length
    socket.send({ type: 'query', content: { text: 'think for a long time', resume: false, files: [] } })
    await llm.waitForRequests(before + 1, 30_000)
    viewer = await connect(wsUrl(watcher, sessionId, 0))
    await viewer.next('connection_established')
    const killedAt = performance.now()
    await victim.stop('SIGKILL')
    await viewer.next((f) => f.type === 'agent_response_interrupted' && f.content?.reason === 'crashed', 60_000)
    return performance.now() - killedAt
  } finally {
    socket.ws.terminate()
    await viewer?.close()
  }
}

/** Upload `body` into a new session on `server` (JSON form of POST /api/upload); returns its site URL. */
export async function uploadSiteFile(server: Instance, sessionId: string, name: string, body: Buffer): Promise<string> {
  const response = await fetch(`${server.url}/api/upload`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-device-id': DEVICE },
    body: JSON.stringify({
      session_id: sessionId,
      file: { path: name, content: `data:text/html;base64,${body.toString('base64')}` },
    }),
  })
  const reply = (await response.json()) as { file?: { saved_path: string } }
  if (response.status !== 200 || reply.file === undefined) {
    throw new Error(`upload to ${server.url} failed: ${response.status} ${JSON.stringify(reply)}`)
  }
  const url = `${server.url}/workspace/${sessionId}/${reply.file.saved_path}`
  const check = await fetch(url)
  const got = Buffer.from(await check.arrayBuffer())
  if (check.status !== 200 || !got.equals(body)) throw new Error(`${url} did not serve the file (${check.status})`)
  return url
}

/** Requests/s from `wrk -t2 -c<connections> -d<seconds>s`. */
export async function wrk(url: string, seconds: number, connections: number): Promise<number> {
  const { stdout } = await run('wrk', ['-t2', `-c${connections}`, `-d${seconds}s`, url], {
    timeout: (seconds + 30) * 1000,
  })
  const match = /Requests\/sec:\s+([\d.]+)/.exec(stdout)
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(stdout)
  if (match === null) throw new Error(`wrk printed no rate:\n${stdout}`)
  if (errors !== null) throw new Error(`wrk saw ${errors[1]} error responses from ${url}`)
  return Number(match[1])
}

export { startScriptedOpenAi }

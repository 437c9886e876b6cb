import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ScriptedRequest, ScriptedStep } from './steps.js'

/** How one API (OpenAI chat completions, Anthropic messages) writes a scripted step. */
export interface WireProtocol {
  name: 'openai' | 'anthropic'
  /** What clients put after the host in their base URL (`/v1` for OpenAI, nothing for Anthropic). */
  basePath: string
  /** Whether a POST to this path is a model request. */
  matches(path: string): boolean
  /** SSE frames up to and including the last content; streamed with `chunkDelayMs` between them. */
  streamHead(step: ScriptedStep, request: ScriptedRequest, seq: number): string[]
  /** SSE frames that finish the answer. */
  streamTail(step: ScriptedStep, request: ScriptedRequest, seq: number): string[]
  streamError(message: string): string
  /** The whole answer as one JSON body, for `stream: false`. */
  complete(step: ScriptedStep, request: ScriptedRequest, seq: number): unknown
  errorBody(status: number, message: string): unknown
}

export interface ScriptedLlm {
  /** Base URL to give the SDK (or CHUTES_BASE_URL / OPENAI_BASE_URL / ANTHROPIC_BASE_URL). */
  readonly url: string
  readonly protocol: 'openai' | 'anthropic'
  /** Queue answers, taken in order (a step with `model` only by a request for that model). */
  enqueue(...steps: ScriptedStep[]): void
  /** The answer when the queue has nothing for a request (default: HTTP 500 "no scripted step left"). */
  setFallback(step: ScriptedStep | undefined): void
  /** Steps not taken yet. */
  readonly pending: number
  /** Every model request received, in order, with its parsed body. */
  readonly requests: ScriptedRequest[]
  /** Requests whose client went away before the answer was complete (cancelled, timed out). */
  readonly abortedRequests: number
  waitForRequests(count: number, timeoutMs?: number): Promise<void>
  waitForAborts(count: number, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/**
 * A real HTTP server on 127.0.0.1 (random port) that answers model requests
 * from a script, so tests drive berth through the real SDKs. Control routes
 * for a server started as a separate process: `POST /__scripted/enqueue`
 * (a step or an array), `POST /__scripted/fallback`, `GET /__scripted/requests`.
 *
 * @example
 *   const llm = await startScriptedServer(openAiWire)
 *   llm.enqueue({ text: 'Hello' })
 */
export async function startScriptedServer(wire: WireProtocol, port = 0): Promise<ScriptedLlm> {
  const queue: ScriptedStep[] = []
  const requests: ScriptedRequest[] = []
  let fallback: ScriptedStep | undefined
  let aborted = 0
  let seq = 0
  const waiters = new Set<() => void>()
  const notify = (): void => {
    for (const waiter of waiters) waiter()
  }

  const take = (model: string | undefined): ScriptedStep | undefined => {
    const index = queue.findIndex((step) => step.model === undefined || step.model === model)
    if (index === -1) return fallback
    return queue.splice(index, 1)[0]
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: `scripted server failed: ${String(error)}` } }))
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req)
    const path = (req.url ?? '/').split('?')[0] as string
    if (path.startsWith('/__scripted/')) return control(path, raw, res)
    if (req.method === 'GET' && path.endsWith('/models')) {
      return json(res, 200, { object: 'list', data: [{ id: 'scripted', object: 'model', owned_by: 'berth-tests' }] })
    }
    if (req.method !== 'POST' || !wire.matches(path)) return json(res, 404, wire.errorBody(404, `No route ${path}`))

    const body = raw.length > 0 ? (JSON.parse(raw) as Record<string, unknown>) : {}
    const request: ScriptedRequest = {
      path,
      headers: req.headers,
      body,
      model: typeof body.model === 'string' ? body.model : undefined,
      stream: body.stream === true,
    }
    requests.push(request)
    const number = ++seq
    let intentional = false
    res.on('close', () => {
      if (!res.writableFinished && !intentional) {
        aborted++
        notify()
      }
    })
    notify()

    const step = take(request.model)
    if (step === undefined) return json(res, 500, wire.errorBody(500, 'scripted LLM: no scripted step left'))
    if (step.delayMs) await sleep(step.delayMs)
    if (res.destroyed) return
    if (step.status !== undefined) {
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (step.retryAfter !== undefined) headers['retry-after'] = String(step.retryAfter)
      res.writeHead(step.status, headers)
      res.end(JSON.stringify(wire.errorBody(step.status, step.errorMessage ?? `scripted error ${step.status}`)))
      return
    }
    if (!request.stream) {
      if (step.hang) return // the client's disconnect ends it
      return json(res, 200, wire.complete(step, request, number))
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
    for (const frame of wire.streamHead(step, request, number)) {
      if (res.destroyed) return
      res.write(frame)
      if (step.chunkDelayMs) await sleep(step.chunkDelayMs)
    }
    if (step.hang) return
    if (step.disconnect) {
      intentional = true
      // Let what was written reach the client first, as when a real connection drops mid-answer.
      await new Promise<void>((resolve) => res.write('', () => resolve()))
      await sleep(20)
      res.socket?.destroy()
      return
    }
    if (step.streamError) {
      res.end(wire.streamError(step.errorMessage ?? 'scripted stream error'))
      return
    }
    res.end(wire.streamTail(step, request, number).join(''))
  }

  function control(path: string, raw: string, res: ServerResponse): void {
    if (path === '/__scripted/enqueue') {
      const steps = JSON.parse(raw) as ScriptedStep | ScriptedStep[]
      queue.push(...(Array.isArray(steps) ? steps : [steps]))
      json(res, 200, { pending: queue.length })
    } else if (path === '/__scripted/fallback') {
      fallback = raw.trim().length > 0 ? (JSON.parse(raw) as ScriptedStep) : undefined
      json(res, 200, { ok: true })
    } else if (path === '/__scripted/requests') {
      json(res, 200, { requests, abortedRequests: aborted, pending: queue.length })
    } else json(res, 404, { error: { message: `No control route ${path}` } })
  }

  const waitFor = (done: () => boolean, what: string, timeoutMs: number): Promise<void> =>
    new Promise((resolve, reject) => {
      if (done()) return resolve()
      const check = (): void => {
        if (!done()) return
        clearTimeout(timer)
        waiters.delete(check)
        resolve()
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`scripted LLM: timed out waiting for ${what}`))
      }, timeoutMs)
      waiters.add(check)
    })

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const { port: actual } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${actual}${wire.basePath}`,
    protocol: wire.name,
    enqueue: (...steps) => {
      queue.push(...steps)
    },
    setFallback: (step) => {
      fallback = step
    },
    get pending() {
      return queue.length
    },
    requests,
    get abortedRequests() {
      return aborted
    },
    waitForRequests: (count, timeoutMs = 5000) =>
      waitFor(() => requests.length >= count, `${count} requests`, timeoutMs),
    waitForAborts: (count, timeoutMs = 5000) => waitFor(() => aborted >= count, `${count} aborted requests`, timeoutMs),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

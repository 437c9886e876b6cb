import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One scripted answer: a status, headers and a body (an object is sent as JSON); `hang` never answers. */
export interface Answer {
  status?: number
  headers?: Record<string, string>
  body?: Buffer | string | object
  hang?: boolean
}

export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: Buffer
}

export interface MediaServer {
  url: string
  /** Every request, in order. */
  requests: RecordedRequest[]
  /** Queue answers for `METHOD /path` (a path may end in `*` to match a prefix); once empty, `fallback` answers. */
  enqueue(route: string, ...answers: Answer[]): void
  fallback(route: string, answer: Answer): void
  close(): Promise<void>
}

/**
 * A local HTTP server that speaks whatever media wire protocol a test
 * scripts: OpenAI's `/v1/images/generations`, `/v1/audio/*`, `/v1/videos`,
 * Chutes' `/generate` and `/transcribe`. It records every request with its
 * raw body, so a test can check what berth sent.
 */
export async function startMediaServer(): Promise<MediaServer> {
  const queues = new Map<string, Answer[]>()
  const fallbacks = new Map<string, Answer>()
  const requests: RecordedRequest[] = []
  const hanging = new Set<import('node:http').ServerResponse>()
  const find = (method: string, path: string): Answer | undefined => {
    const keys = [...new Set([...queues.keys(), ...fallbacks.keys()])]
    const key = keys.find((k) => {
      const [m, p = ''] = k.split(' ')
      return m === method && (p.endsWith('*') ? path.startsWith(p.slice(0, -1)) : p === path)
    })
    if (key === undefined) return undefined
    return queues.get(key)?.shift() ?? fallbacks.get(key)
  }
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body: Buffer.concat(chunks) })
    const answer = find(req.method ?? 'GET', path)
    if (answer === undefined) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: `no route ${path}` } }))
      return
    }
    if (answer.hang) {
      hanging.add(res)
      return
    }
    const body = answer.body ?? ''
    const isJson = !Buffer.isBuffer(body) && typeof body === 'object'
    const bytes = isJson ? Buffer.from(JSON.stringify(body)) : Buffer.isBuffer(body) ? body : Buffer.from(body)
    res.writeHead(answer.status ?? 200, {
      'content-type': isJson ? 'application/json' : 'application/octet-stream',
      'content-length': String(bytes.length),
      ...answer.headers,
    })
    res.end(bytes)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue(route, ...answers) {
      queues.set(route, [...(queues.get(route) ?? []), ...answers])
    },
    fallback(route, answer) {
      fallbacks.set(route, answer)
    },
    async close() {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Quick retries for tests: the LLM layer's policy with a 1 ms base. */
export const FAST_RETRY = { maxRetries: 2, baseDelayMs: 1, budgetMs: 10_000 }

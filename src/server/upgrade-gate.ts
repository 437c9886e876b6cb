import { type IncomingMessage, type RequestListener, Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { ERROR_CATALOGUE, type ErrorCode } from '../core/errors.js'
import type { ErrorBody } from './errors.js'

/** Where a database upgrade is: a step name (or `backup`) and how far, 0 to 1. */
export interface GateProgress {
  step: string
  fraction: number
}

/**
 * The listening socket of `berth serve`, open before the app exists. Until
 * `open()`, it answers by itself: `/healthz` 200, `/readyz` 503 with the
 * upgrade's step and progress, every other request and every WebSocket
 * upgrade 503 `DATABASE_UPGRADING` (or `SERVER_STARTING` when no upgrade
 * runs). `open()` hands requests to the app (fastify adopts this server, see
 * `create-server.ts`) and lets upgrade events reach the app's own listeners,
 * on the same socket: the port never closes.
 *
 * @example
 *   const gate = new UpgradeGate()
 *   await gate.listen(host, port)
 *   gate.setProgress({ step: '0002_berth_columns', fraction: 0.42 })
 *   const app = await createServer(context, { adopt: gate })
 *   await app.ready()
 *   gate.open()
 */
export class UpgradeGate {
  readonly server: Server
  private progress: GateProgress | null = null
  private app: RequestListener | null = null
  private adopted: RequestListener | null = null

  constructor() {
    const gate = this
    // Upgrade events are held back from the app's listeners (@fastify/websocket attaches one while the
    // app is built) until the app is open; until then the gate answers them.
    class GatedServer extends Server {
      // biome-ignore lint/suspicious/noExplicitAny: matches EventEmitter.emit
      override emit(event: string, ...args: any[]): boolean {
        if (event === 'upgrade' && gate.app === null) {
          gate.refuseUpgrade(args[1] as Duplex)
          return true
        }
        return super.emit(event, ...args)
      }
    }
    this.server = new GatedServer((req, res) => {
      if (this.app) this.app(req, res)
      else this.answer(req, res)
    })
  }

  /** Listen now; resolves with the port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject)
        resolve((this.server.address() as { port: number }).port)
      })
    })
  }

  /** The upgrade moved on (null: none runs, the server is only starting). */
  setProgress(progress: GateProgress | null): void {
    this.progress = progress
  }

  /** The app's request handler, given while the app is built (fastify's server factory); not used before `open()`. */
  adopt(handler: RequestListener): void {
    this.adopted = handler
  }

  /** From now on every request goes to the adopted handler, and upgrade events to the server's other listeners. */
  open(): void {
    if (!this.adopted) throw new Error('UpgradeGate.open() before an app adopted the server')
    this.app = this.adopted
  }

  get isOpen(): boolean {
    return this.app !== null
  }

  /** Stop listening and drop idle keep-alive connections (fastify does not close a server it did not start). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeIdleConnections()
    })
  }

  /** What the 503s say, e.g. `upgrading the database: 0002_berth_columns, 42 %`. */
  describe(): { code: ErrorCode; message: string } {
    if (!this.progress) return { code: 'SERVER_STARTING', message: 'berth is starting; try again in a few seconds' }
    const { step, percent } = this.where()
    return { code: 'DATABASE_UPGRADING', message: `upgrading the database: ${step}, ${percent} %` }
  }

  private where(): { step: string; percent: number } {
    const progress = this.progress ?? { step: 'starting', fraction: 0 }
    return { step: progress.step, percent: Math.floor(Math.min(1, Math.max(0, progress.fraction)) * 100) }
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]
    const { code, message } = this.describe()
    if (path === '/healthz') send(res, 200, { status: 'ok' })
    else if (path === '/readyz') {
      send(res, 503, { ready: false, ...(this.progress ? { upgrading: this.where() } : { starting: true }), message })
    } else send(res, ERROR_CATALOGUE[code].status, errorBody(code, message))
  }

  private refuseUpgrade(socket: Duplex): void {
    const { code, message } = this.describe()
    const body = JSON.stringify(errorBody(code, message))
    socket.end(
      `HTTP/1.1 ${ERROR_CATALOGUE[code].status} Service Unavailable\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `Retry-After: ${RETRY_AFTER_SECONDS}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    )
  }
}

const RETRY_AFTER_SECONDS = 5

function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { code, message, detail: message, error: message }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...(status === 503 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {}),
  })
  res.end(text)
}

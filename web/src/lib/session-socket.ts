import type { Frame } from './api-types.js'

export type SocketStatus = 'connecting' | 'open' | 'reconnecting' | 'closed'

export interface SocketOptions {
  /** Query parameters for each (re)connect; called again every time, so `after` is always the latest seq seen. */
  params: () => Record<string, string | number | undefined>
  onFrame: (frame: Frame) => void
  onStatus: (status: SocketStatus) => void
}

/**
 * The `/ws` connection of one view. It reconnects by itself with a growing
 * delay, each time with `after=<last seq seen>`, so the server sends exactly
 * what was missed: no gap, no duplicate, and never a new session (the
 * reference UI's reconnect split conversations).
 *
 * @example
 *   const socket = new SessionSocket({ params: () => ({ session_uuid: id, after: state.lastSeq }), onFrame, onStatus })
 *   socket.connect()
 *   socket.send({ type: 'query', content: { text: 'hi', files: [] } })
 */
export class SessionSocket {
  private ws: WebSocket | null = null
  private retry = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private stopped = false
  private readonly queue: string[] = []

  constructor(private readonly options: SocketOptions) {}

  connect(): void {
    this.stopped = false
    const query = new URLSearchParams()
    for (const [key, value] of Object.entries(this.options.params())) {
      if (value !== undefined && value !== '') query.set(key, String(value))
    }
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
    const ws = new WebSocket(`${scheme}://${location.host}/ws?${query}`)
    this.ws = ws
    this.options.onStatus(this.retry === 0 ? 'connecting' : 'reconnecting')
    ws.onopen = () => {
      this.retry = 0
      this.options.onStatus('open')
      for (const message of this.queue.splice(0)) ws.send(message)
    }
    ws.onmessage = (message) => {
      try {
        this.options.onFrame(JSON.parse(String(message.data)) as Frame)
      } catch {
        // not JSON: nothing the UI can show
      }
    }
    ws.onclose = (event) => {
      if (this.ws !== ws) return
      this.ws = null
      // 1008: refused (another device's session, a dead share link); retrying would not help.
      if (this.stopped || event.code === 1008) {
        this.options.onStatus('closed')
        return
      }
      this.options.onStatus('reconnecting')
      const delay = Math.min(10_000, 500 * 2 ** this.retry++)
      this.timer = setTimeout(() => this.connect(), delay)
    }
  }

  /** Send now, or as soon as the connection is open. */
  send(message: { type: string; content?: unknown }): void {
    const text = JSON.stringify(message)
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(text)
    else this.queue.push(text)
  }

  close(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    const ws = this.ws
    this.ws = null
    ws?.close(1000)
    this.options.onStatus('closed')
  }
}

import WebSocket from 'ws'

export interface Frame {
  type: string
  content?: any
  id?: string
  seq?: number
  [key: string]: unknown
}

export interface TestSocket {
  ws: WebSocket
  frames: Frame[]
  send(message: unknown): void
  sendRaw(data: string | Buffer): void
  /** The next frame (after those already consumed by earlier `next` calls) matching `predicate`. */
  next(predicate?: string | ((frame: Frame) => boolean), timeoutMs?: number): Promise<Frame>
  closed: Promise<{ code: number; reason: string }>
  close(): Promise<void>
}

/**
 * A real `ws` client that records every frame, for protocol tests.
 *
 * @example
 *   const socket = await connect(`${url.replace('http', 'ws')}/ws?device_id=d1`)
 *   const hello = await socket.next('connection_established')
 */
export async function connect(url: string, headers: Record<string, string> = {}): Promise<TestSocket> {
  const ws = new WebSocket(url, { headers })
  const frames: Frame[] = []
  let cursor = 0
  const waiters = new Set<() => void>()
  ws.on('message', (data) => {
    try {
      frames.push(JSON.parse(data.toString()) as Frame)
    } catch {
      frames.push({ type: '__unparsable__', content: data.toString() })
    }
    for (const wake of waiters) wake()
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString() })
      for (const wake of waiters) wake()
    })
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return {
    ws,
    frames,
    send: (message) => ws.send(JSON.stringify(message)),
    sendRaw: (data) => ws.send(data),
    closed,
    next(predicate, timeoutMs = 15_000) {
      const matches =
        predicate === undefined
          ? () => true
          : typeof predicate === 'string'
            ? (frame: Frame) => frame.type === predicate
            : predicate
      return new Promise((resolve, reject) => {
        const check = () => {
          while (cursor < frames.length) {
            const frame = frames[cursor++] as Frame
            if (matches(frame)) {
              clearTimeout(timer)
              waiters.delete(check)
              resolve(frame)
              return
            }
          }
          if (ws.readyState === WebSocket.CLOSED) {
            clearTimeout(timer)
            waiters.delete(check)
            reject(
              new Error(`socket closed before the expected frame; got ${JSON.stringify(frames.map((f) => f.type))}`),
            )
          }
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`timed out; frames so far: ${JSON.stringify(frames.map((f) => f.type))}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
    async close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close()
      await closed
    },
  }
}

// Worker for bench:server: opens N WebSocket viewers of one session and
// reports, per received event, how long after its append it arrived.
import { parentPort, workerData } from 'node:worker_threads'
import WebSocket from 'ws'

const { url, viewers, expected } = workerData
const latencies = []
let done = 0

const sockets = Array.from({ length: viewers }, () => new WebSocket(url))
let open = 0
for (const socket of sockets) {
  let received = 0
  socket.on('open', () => {
    open++
    if (open === viewers) parentPort?.postMessage({ type: 'ready' })
  })
  socket.on('message', (data) => {
    const now = performance.timeOrigin + performance.now()
    const frame = JSON.parse(data.toString())
    if (frame.type !== 'tool_result' || frame.content?.sent_at === undefined) return
    latencies.push(now - frame.content.sent_at)
    if (++received === expected) {
      socket.close()
      if (++done === viewers) parentPort?.postMessage({ type: 'done', latencies })
    }
  })
}

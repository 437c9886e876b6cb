import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { UpgradeGate } from '../../src/server/upgrade-gate.js'

const gates: UpgradeGate[] = []
afterEach(async () => {
  for (const gate of gates.splice(0)) {
    gate.server.closeAllConnections()
    await gate.close()
  }
})

/** Try a WebSocket: 'open', or the refusal's status and body. */
function tryWebSocket(url: string): Promise<{ opened: true } | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('open', () => {
      ws.close()
      resolve({ opened: true })
    })
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    ws.once('error', reject)
  })
}

describe('UpgradeGate', () => {
  it('holds WebSocket upgrades back from the app listener until open(), then lets them through', async () => {
    const gate = new UpgradeGate()
    gates.push(gate)
    const port = await gate.listen('127.0.0.1', 0)
    // What @fastify/websocket does while the app is built: its own 'upgrade' listener on the server.
    const wss = new WebSocketServer({ noServer: true })
    gate.server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.close()))
    gate.setProgress({ step: '0002_berth_columns', fraction: 0.425 })

    const refused = await tryWebSocket(`ws://127.0.0.1:${port}/ws`)
    expect(refused).toMatchObject({ status: 503 })
    expect(JSON.parse((refused as { body: string }).body)).toEqual({
      code: 'DATABASE_UPGRADING',
      message: 'upgrading the database: 0002_berth_columns, 42 %',
      detail: 'upgrading the database: 0002_berth_columns, 42 %',
      error: 'upgrading the database: 0002_berth_columns, 42 %',
    })
    const api = await fetch(`http://127.0.0.1:${port}/api/anything`)
    expect(api.status).toBe(503)
    expect(api.headers.get('retry-after')).toBe('5')

    gate.setProgress(null)
    const starting = await fetch(`http://127.0.0.1:${port}/readyz`)
    expect(starting.status).toBe(503)
    expect(await starting.json()).toMatchObject({ ready: false, starting: true })

    gate.adopt((_req, res) => res.end('app'))
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe('{"status":"ok"}')
    gate.open()
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe('app')
    expect(await tryWebSocket(`ws://127.0.0.1:${port}/ws`)).toEqual({ opened: true })
    wss.close()
  })
})

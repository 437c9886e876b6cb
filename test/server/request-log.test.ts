import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { startFileServer } from './file-routes-harness.js'

const TOKEN = 'a-long-enough-server-token'
const SESSION = '5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f'

/** A server whose log lines (at `level`) are collected as parsed JSON. */
async function loggedServer(level: 'debug' | 'info', env: Record<string, string> = {}) {
  const lines: Record<string, unknown>[] = []
  const logger = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line)) })
  const server = await startFileServer(env, { logger })
  const http = () => lines.filter((line) => line.part === 'http')
  return { server, lines, http }
}

describe('the request log', () => {
  it('writes every request at debug with method, route pattern, status and time', async () => {
    const { server, http } = await loggedServer('debug')
    await server.session(SESSION, 'dev-a')
    await fetch(`${server.url}/api/sessions/${SESSION}/events?after=0`, { headers: { 'x-device-id': 'dev-a' } })
    const entry = http().find((line) => line.route === '/api/sessions/:id/events')
    expect(entry).toMatchObject({ level: 20, method: 'GET', status: 200 })
    expect(typeof entry?.ms).toBe('number')
  })

  it('writes each rejection at info with its error code, never the token, the query or the body', async () => {
    const { server, lines, http } = await loggedServer('info', { BERTH_AUTH_TOKEN: TOKEN })
    await server.session(SESSION, 'dev-a')
    const wrongToken = 'a-wrong-but-long-token-value'
    await fetch(`${server.url}/api/sessions/${SESSION}/events?token=${wrongToken}`)
    await fetch(`${server.url}/api/sessions/dev-b?token=${TOKEN}`, { headers: { 'x-device-id': 'dev-a' } })
    await fetch(`${server.url}/api/files/content`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workspace_id: SESSION, path: 'secret-body-text.txt' }),
    })
    await fetch(`${server.url}/no/such/route?token=${TOKEN}`)
    const rejected = http().map(({ method, route, status, code, level }) => ({ method, route, status, code, level }))
    expect(rejected).toEqual([
      { method: 'GET', route: '/api/sessions/:id/events', status: 401, code: 'AUTH_REQUIRED', level: 30 },
      { method: 'POST', route: '/api/files/content', status: 404, code: 'FILE_NOT_FOUND', level: 30 },
      { method: 'GET', route: '(unmatched) /no/such/route', status: 404, code: 'NOT_FOUND', level: 30 },
    ])
    const text = JSON.stringify(lines)
    expect(text).not.toContain(TOKEN)
    expect(text).not.toContain(wrongToken)
    expect(text).not.toContain('secret-body-text')
  })
})

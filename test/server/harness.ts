import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { startTestServer, type TestServer } from '../helpers/berth-server.js'
import { connect } from '../helpers/ws-client.js'

/** One berth server (child process, scripted model) for a whole test file. */
export function serverForFile(env: Record<string, string | undefined> = {}): () => TestServer {
  let server: TestServer | undefined
  beforeAll(async () => {
    server = await startTestServer(await mkdtemp(join(tmpdir(), 'berth-server-')), { env })
  })
  afterAll(async () => {
    if (!server) return
    await server.stop()
    await rm(server.root, { recursive: true, force: true })
  })
  return () => {
    if (!server) throw new Error('server not started')
    return server
  }
}

export interface ApiResult {
  status: number
  body: any
  headers: Headers
}

export function apiClient(base: () => string) {
  return async (path: string, init: RequestInit & { device?: string; token?: string } = {}): Promise<ApiResult> => {
    const headers = new Headers(init.headers)
    if (init.device) headers.set('x-device-id', init.device)
    if (init.token) headers.set('authorization', `Bearer ${init.token}`)
    if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json')
    const response = await fetch(`${base()}${path}`, { ...init, headers })
    const text = await response.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // not JSON
    }
    return { status: response.status, body, headers: response.headers }
  }
}

/** Run one scripted query in a new session of `device` and return the session id once it completed. */
export async function runQuery(
  t: TestServer,
  device: string,
  text: string,
  answer: string,
  extra: Record<string, string> = {},
) {
  t.llm.enqueue({ text: answer })
  const socket = await connect(t.wsUrl({ device_id: device, ...extra }))
  const sessionId = (await socket.next('connection_established')).content.session_uuid as string
  socket.send({ type: 'query', content: { text } })
  await socket.next('stream_complete')
  await socket.close()
  return sessionId
}

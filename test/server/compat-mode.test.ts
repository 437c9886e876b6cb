import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { connect } from '../helpers/ws-client.js'
import { startFileServer } from './file-routes-harness.js'
import { apiClient, serverForFile } from './harness.js'

// An upload names its session but no device, as the reference frontend sends it before its first query.
const uploadFor = (sessionId: string) => ({
  method: 'POST',
  body: JSON.stringify({ session_id: sessionId, file: { path: 'notes.txt', content: 'data:text/plain;base64,aGk=' } }),
})

describe('an upload before the first query, for the session of a live socket', () => {
  const server = serverForFile({ BERTH_II_AGENT_COMPAT: 'true' })
  const api = apiClient(() => server().server.url)

  it('creates the session for the device that opened the socket (compat on)', async () => {
    const socket = await connect(server().wsUrl({ device_id: 'browser-1', use_chutes: 'true' }))
    const hello = await socket.next('connection_established')
    const sessionId = hello.content.session_uuid as string
    const workspaceId = (hello.content.workspace_path as string).split('/').pop() as string
    expect(workspaceId).toBe(sessionId)

    const saved = await api('/api/upload', uploadFor(workspaceId))
    expect(saved.status).toBe(200)
    expect(saved.body.file.path).toBe('/uploaded_files/notes.txt')
    const sessions = await api('/api/sessions/browser-1')
    expect(sessions.body.sessions.map((s: { id: string }) => s.id)).toEqual([sessionId])
    expect(await readFile(join(server().root, 'workspace', sessionId, 'uploaded_files/notes.txt'), 'utf8')).toBe('hi')
    await socket.close()
  })

  it('refuses a session id that no live socket was given', async () => {
    const refused = await api('/api/upload', uploadFor('0b6f3c2e-5d1a-4e8b-9c7d-2f4a6b8c0d1e'))
    expect(refused.status).toBe(400)
    expect(refused.body.code).toBe('INVALID_REQUEST')
  })

  it('forgets the claim when the socket closes', async () => {
    const socket = await connect(server().wsUrl({ device_id: 'browser-2' }))
    const sessionId = (await socket.next('connection_established')).content.session_uuid as string
    await socket.close()
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect((await api('/api/upload', uploadFor(sessionId))).status).toBe(400)
  })
})

describe('with compat off', () => {
  const server = serverForFile()
  const api = apiClient(() => server().server.url)

  it('still needs a device id, even for the session of a live socket', async () => {
    const socket = await connect(server().wsUrl({ device_id: 'browser-3' }))
    const sessionId = (await socket.next('connection_established')).content.session_uuid as string
    const refused = await api('/api/upload', uploadFor(sessionId))
    expect(refused.status).toBe(400)
    expect(refused.body.message).toMatch(/device id/)
    await socket.close()
  })
})

describe('replaying a long session the way the reference frontend does (one GET, no paging)', () => {
  const SESSION = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b'
  const events = Array.from({ length: 1205 }, (_, i) => ({
    type: 'agent_response' as const,
    content: { text: `#${i}` },
  }))

  it('gets the whole log under compat, and pages of 1000 otherwise', async () => {
    for (const compat of [true, false]) {
      const server = await startFileServer(compat ? { BERTH_II_AGENT_COMPAT: 'true' } : {})
      await server.session(SESSION, 'dev-a')
      await server.context.store.appendMany(SESSION, events)
      const response = await fetch(`${server.url}/api/sessions/${SESSION}/events`, {
        headers: compat ? {} : { 'x-device-id': 'dev-a' },
      })
      const body = (await response.json()) as {
        events: { event_payload: { content: { text: string } } }[]
        next_after: number | null
        total_count: number
      }
      expect(body.total_count).toBe(1205)
      expect(body.events).toHaveLength(compat ? 1205 : 1000)
      expect(body.next_after).toBe(compat ? null : 1000)
      expect(body.events.at(-1)?.event_payload.content.text).toBe(compat ? '#1204' : '#999')
    }
  })
})

import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../helpers/berth-server.js'
import { PNG_1PX } from '../helpers/images.js'
import { tryMount, unmount } from '../helpers/mount.js'
import { tempDir } from '../helpers/temp-dir.js'
import { connect, type Frame } from '../helpers/ws-client.js'

let t: TestServer

beforeAll(async () => {
  // Not tempDir(): that one is cleaned after each test, and this server lives for the file.
  const { mkdtemp } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  t = await startTestServer(await mkdtemp(join(tmpdir(), 'berth-ws-')))
})
afterAll(async () => {
  await t?.stop()
  const { rm } = await import('node:fs/promises')
  if (t) await rm(t.root, { recursive: true, force: true })
})

async function api(path: string, init: RequestInit & { device?: string } = {}) {
  const headers = new Headers(init.headers)
  if (init.device) headers.set('x-device-id', init.device)
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json')
  const response = await fetch(`${t.server.url}${path}`, { ...init, headers })
  return { status: response.status, body: (await response.json()) as any }
}

const storedTypes = (frames: Frame[]) => frames.filter((f) => typeof f.seq === 'number').map((f) => f.type)

describe('WebSocket protocol', () => {
  it('greets, answers workspace_info and ping, and types every bad message', async () => {
    const socket = await connect(t.wsUrl({ device_id: 'dev-a' }))
    const hello = await socket.next('connection_established')
    expect(hello.content).toMatchObject({ server_ready: true, device_id: 'dev-a', read_only: false })
    expect(hello.content.session_uuid).toMatch(/^[0-9a-f-]{36}$/)
    expect(hello.content.workspace_path.endsWith(hello.content.session_uuid)).toBe(true)

    socket.send({ type: 'workspace_info_request', content: {} })
    expect((await socket.next('workspace_info')).content.session_uuid).toBe(hello.content.session_uuid)
    socket.send({ type: 'ping' })
    expect(await socket.next('pong')).toEqual({ type: 'pong' })

    socket.sendRaw('{not json')
    expect((await socket.next('error')).content.error_code).toBe('INVALID_JSON')
    socket.send({ type: 'launch_missiles', content: {} })
    expect((await socket.next('error')).content.error_code).toBe('UNKNOWN_MESSAGE_TYPE')
    socket.send({ type: 'query', content: { text: 42 } })
    const invalid = await socket.next('error')
    expect(invalid.content.error_code).toBe('INVALID_MESSAGE')
    expect(invalid.content.message).toContain('text')
    socket.send({ type: 'cancel', content: {} })
    expect((await socket.next('error')).content.error_code).toBe('NO_ACTIVE_QUERY')
    socket.send({ type: 'terminal_command', content: { command: 'id' } })
    expect((await socket.next('error')).content.error_code).toBe('BASH_TOOL_UNAVAILABLE')

    // No session row or folder for a connection that did nothing.
    expect((await api(`/api/sessions/dev-a`, { device: 'dev-a' })).body.sessions).toEqual([])

    socket.sendRaw(Buffer.alloc(2 * 1024 * 1024, 'x').toString())
    expect((await socket.closed).code).toBe(1009)
    expect((await fetch(`${t.server.url}/healthz`)).status).toBe(200)
  })

  it('runs a query, streams tokens, stores events, and resumes a reconnect exactly after its cursor', async () => {
    t.llm.enqueue({ text: 'Hello from the scripted model, streamed in small chunks.' })
    const socket = await connect(t.wsUrl({ device_id: 'dev-b' }))
    const hello = await socket.next('connection_established')
    const sessionId = hello.content.session_uuid as string
    socket.send({ type: 'query', content: { text: 'Say hello', resume: false, files: [] } })
    await socket.next('processing')
    await socket.next('stream_complete')
    expect(socket.frames.some((f) => f.type === 'agent_response_delta')).toBe(true)
    const response = socket.frames.find((f) => f.type === 'agent_response')
    expect(response?.content.text).toBe('Hello from the scripted model, streamed in small chunks.')
    // The client's own user_message is not echoed (as the reference); the rest carries seq numbers in order.
    expect(socket.frames.some((f) => f.type === 'user_message')).toBe(false)
    const seqs = socket.frames.filter((f) => typeof f.seq === 'number').map((f) => f.seq as number)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    await socket.close()

    const { body } = await api(`/api/sessions/${sessionId}/events`, { device: 'dev-b' })
    const stored = body.events as { seq: number; event_type: string; event_payload: any }[]
    expect(stored[0]?.event_type).toBe('user_message')
    expect(stored[0]?.event_payload).toEqual({ type: 'user_message', content: { text: 'Say hello', files: [] } })
    expect(stored.at(-1)?.event_type).toBe('stream_complete')

    // Reconnect having seen up to seq 1: exactly the rest, then live.
    const again = await connect(t.wsUrl({ device_id: 'dev-b', session_uuid: sessionId, after: 1 }))
    await again.next('connection_established')
    await again.next((f) => f.seq === stored.at(-1)?.seq)
    const replayed = again.frames.filter((f) => typeof f.seq === 'number')
    expect(replayed.map((f) => f.seq)).toEqual(stored.slice(1).map((e) => e.seq))
    expect(replayed.map((f) => f.id)).toEqual(stored.slice(1).map((e: any) => e.id))
    await again.close()
  })

  it('sends an uploaded image to the model with the query that names it, and again on the next query', async () => {
    t.llm.enqueue({ text: 'A single pixel.' }, { text: 'Still one pixel.' })
    const socket = await connect(t.wsUrl({ device_id: 'dev-img' }))
    const sessionId = (await socket.next('connection_established')).content.session_uuid as string
    const uploaded = await api('/api/upload', {
      method: 'POST',
      device: 'dev-img',
      body: JSON.stringify({
        session_id: sessionId,
        file: { path: 'dot.png', content: `data:image/png;base64,${PNG_1PX.toString('base64')}` },
      }),
    })
    expect(uploaded.status).toBe(200)
    // The reference web client strips the leading slash of the returned path.
    const file = (uploaded.body.file.path as string).replace(/^\//, '')
    const dataUrl = `data:image/png;base64,${PNG_1PX.toString('base64')}`
    const userMessages = (index: number) =>
      ((t.llm.requests[index]?.body.messages ?? []) as { role: string; content: unknown }[]).filter(
        (m) => m.role === 'user',
      )

    const before = t.llm.requests.length
    socket.send({ type: 'query', content: { text: 'What is in it?', resume: false, files: [file] } })
    await socket.next('stream_complete')
    expect(userMessages(before)).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: `What is in it?\n\nAttached files:\n - ${file}` },
          { type: 'image_url', image_url: { url: dataUrl } },
        ],
      },
    ])

    // A later query (a new run, its history rebuilt from the log) still shows the model the image.
    socket.send({ type: 'query', content: { text: 'And now?', resume: true, files: [] } })
    await socket.next('stream_complete')
    const [first, second] = userMessages(before + 1)
    expect(first?.content).toEqual([
      { type: 'text', text: `What is in it?\n\nAttached files:\n - ${file}` },
      { type: 'image_url', image_url: { url: dataUrl } },
    ])
    expect(second).toEqual({ role: 'user', content: 'And now?' })
    await socket.close()
  })

  it('lets two viewers watch one run, refuses a second query, and cancels within a second', async () => {
    t.llm.enqueue({ text: 'Thinking very slowly...', hang: true })
    const a = await connect(t.wsUrl({ device_id: 'dev-c' }))
    const sessionId = (await a.next('connection_established')).content.session_uuid as string
    a.send({ type: 'init_agent', content: {} })
    await a.next('agent_initialized')
    const b = await connect(t.wsUrl({ device_id: 'dev-c', session_uuid: sessionId, after: 0 }))
    await b.next('connection_established')

    a.send({ type: 'query', content: { text: 'Take your time' } })
    await a.next('processing')
    await b.next('user_message')
    a.send({ type: 'query', content: { text: 'And another thing' } })
    expect((await a.next('error')).content.error_code).toBe('QUERY_IN_PROGRESS')

    const started = Date.now()
    a.send({ type: 'cancel_processing', content: {} })
    const interrupted = await a.next('agent_response_interrupted')
    expect(Date.now() - started).toBeLessThan(1500)
    expect(interrupted.content.reason).toBe('cancelled')
    await a.next('stream_complete')
    await a.next('system')
    await b.next('stream_complete')
    const storedA = a.frames.filter((f) => typeof f.seq === 'number').map((f) => f.seq)
    const storedB = b.frames.filter((f) => typeof f.seq === 'number' && f.type !== 'user_message').map((f) => f.seq)
    expect(storedB).toEqual(storedA)
    expect(storedTypes(b.frames)).toContain('agent_response_interrupted')
    await a.close()
    await b.close()
  })

  it('keeps a run going when its browser disconnects', async () => {
    t.llm.enqueue({ text: 'Still here after you left.', chunkDelayMs: 20, chunkSize: 4 })
    const socket = await connect(t.wsUrl({ device_id: 'dev-d' }))
    const sessionId = (await socket.next('connection_established')).content.session_uuid as string
    socket.send({ type: 'query', content: { text: 'Work while I am away' } })
    await socket.next('processing')
    await socket.close()
    const deadline = Date.now() + 10_000
    let types: string[] = []
    while (Date.now() < deadline) {
      types = (await api(`/api/sessions/${sessionId}/events`, { device: 'dev-d' })).body.events.map(
        (e: any) => e.event_type,
      )
      if (types.includes('stream_complete')) break
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(types).toContain('agent_response')
    expect(types.at(-1)).toBe('stream_complete')
  })

  it('refuses another device reattaching to a session', async () => {
    const owner = await connect(t.wsUrl({ device_id: 'owner' }))
    const sessionId = (await owner.next('connection_established')).content.session_uuid as string
    owner.send({ type: 'init_agent', content: {} })
    await owner.next('agent_initialized')
    const intruder = await connect(t.wsUrl({ device_id: 'intruder', session_uuid: sessionId }))
    expect((await intruder.next('error')).content.error_code).toBe('ACCESS_DENIED')
    expect((await intruder.closed).code).toBe(1008)
    await owner.close()
  })

  it('refuses a share-link viewer’s cancel, query and edit with ACCESS_DENIED, even with the owner’s device id; the run goes on', async () => {
    t.llm.enqueue({ text: 'Working on it...', hang: true })
    const owner = await connect(t.wsUrl({ device_id: 'dev-shared' }))
    const sessionId = (await owner.next('connection_established')).content.session_uuid as string
    owner.send({ type: 'query', content: { text: 'A long task' } })
    await owner.next('processing')
    const share = await api(`/api/sessions/${sessionId}/share`, { method: 'POST', device: 'dev-shared', body: '{}' })
    expect(share.status).toBe(200)
    const token = share.body.share.token as string

    // Presenting the owner's device id passes the device check: only the share link's read-only rule refuses.
    for (const device of [{}, { device_id: 'dev-shared' }] as Record<string, string>[]) {
      const viewer = await connect(t.wsUrl({ share: token, after: 0, ...device }))
      expect((await viewer.next('connection_established')).content).toMatchObject({ read_only: true, running: true })
      for (const type of ['cancel_processing', 'cancel', 'query', 'edit_query']) {
        viewer.send({ type, content: type.endsWith('query') ? { text: 'Do something else' } : {} })
        const refused = await viewer.next('error')
        expect([type, refused.content.error_code]).toEqual([type, 'ACCESS_DENIED'])
        expect(refused.content.message).toContain('read-only')
      }
      await viewer.close()
    }

    const info = await api(`/api/sessions/${sessionId}/info`, { device: 'dev-shared' })
    expect(info.body.running).toBe(true)
    const { body } = await api(`/api/sessions/${sessionId}/events`, { device: 'dev-shared' })
    expect(body.events.map((e: any) => e.event_type)).toEqual(['user_message'])
    expect(owner.frames.some((f) => f.type === 'agent_response_interrupted' || f.type === 'stream_complete')).toBe(
      false,
    )

    owner.send({ type: 'cancel_processing', content: {} })
    expect((await owner.next('agent_response_interrupted')).content.reason).toBe('cancelled')
    await owner.close()
  })

  it('edit_query takes the last exchange out of the model’s history but keeps it in the log', async () => {
    t.llm.enqueue({ text: 'Answer to the first wording.' }, { text: 'Answer to the edited wording.' })
    const socket = await connect(t.wsUrl({ device_id: 'dev-e' }))
    const sessionId = (await socket.next('connection_established')).content.session_uuid as string
    socket.send({ type: 'query', content: { text: 'First wording of the question' } })
    await socket.next('stream_complete')
    socket.send({ type: 'edit_query', content: { text: 'Edited wording of the question' } })
    expect((await socket.next('agent_response')).content.text).toBe('Answer to the edited wording.')
    await socket.next('stream_complete')
    const sent = JSON.stringify(t.llm.requests.at(-1)?.body.messages)
    expect(sent).toContain('Edited wording of the question')
    expect(sent).not.toContain('First wording of the question')
    expect(sent).not.toContain('Answer to the first wording.')
    const { body } = await api(`/api/sessions/${sessionId}/events`, { device: 'dev-e' })
    const types = body.events.map((e: any) => e.event_type)
    expect(types.filter((type: string) => type === 'user_message')).toHaveLength(2)
    expect(types).toContain('query_edited')
    await socket.close()
  })
})

/** Write into `file` until the file system refuses: nothing is left free. */
async function fillDisk(file: string): Promise<void> {
  const handle = await open(file, 'w')
  const chunk = Buffer.alloc(64 * 1024, 1)
  try {
    for (;;) await handle.write(chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    await handle.close()
  }
}

describe('a run that cannot store its end (data root on a full disk)', () => {
  it('tells every live viewer with an error and the end, both marked not stored, and goes on once space is back', async (ctx) => {
    const root = join(await tempDir(), 'small-disk')
    if (!tryMount(root, 'size=8m')) ctx.skip('cannot mount a tmpfs here (needs root on Linux); the test did not run')
    const filler = join(root, 'filler')
    let server: TestServer | undefined
    try {
      // The log file is on the full disk too: its failed writes must not end the server (src/logging/logger.ts).
      server = await startTestServer(root)
      // A long answer, streamed slowly enough that the disk fills while it comes in.
      server.llm.enqueue({ text: 'y'.repeat(600 * 1024), chunkSize: 64 * 1024, chunkDelayMs: 150 })
      const owner = await connect(server.wsUrl({ device_id: 'dev-full' }))
      const sessionId = (await owner.next('connection_established')).content.session_uuid as string
      owner.send({ type: 'init_agent', content: {} })
      await owner.next('agent_initialized')
      const watcher = await connect(server.wsUrl({ device_id: 'dev-full', session_uuid: sessionId, after: 0 }))
      await watcher.next('connection_established')

      owner.send({ type: 'query', content: { text: 'Write a very long answer' } })
      await owner.next('processing')
      await watcher.next('user_message')
      await owner.next('agent_response_delta')
      await fillDisk(filler)

      for (const viewer of [owner, watcher]) {
        const error = await viewer.next('error')
        expect(error).toEqual({
          type: 'error',
          content: { message: expect.stringContaining('disk is full'), error_code: 'DISK_FULL', stored: false },
        })
        const end = await viewer.next('stream_complete')
        expect(end.content).toMatchObject({ status: 'failed', stored: false })
        // Not stored, so not presented as stored: no id, no seq.
        for (const frame of [error, end]) {
          expect(frame.seq).toBeUndefined()
          expect(frame.id).toBeUndefined()
        }
        // Nothing stored-looking was published for the events that failed.
        expect(storedTypes(viewer.frames).filter((type) => type !== 'user_message')).toEqual([])
      }

      // Space is back: the same session takes the next query and stores its end as usual.
      await rm(filler)
      server.llm.enqueue({ text: 'Back in business.' })
      owner.send({ type: 'query', content: { text: 'Try again' } })
      const stored = await owner.next((f) => f.type === 'stream_complete' && typeof f.seq === 'number')
      expect(stored.content).toMatchObject({ status: 'completed' })
      expect(stored.content.stored).toBeUndefined()
      expect(owner.frames.find((f) => f.type === 'agent_response')?.content.text).toBe('Back in business.')
      await owner.close()
      await watcher.close()
    } finally {
      await rm(filler, { force: true })
      await server?.stop()
      unmount(root)
    }
  })
})

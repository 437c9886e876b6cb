import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../helpers/berth-server.js'
import { connect, type Frame } from '../helpers/ws-client.js'
import { apiClient } from './harness.js'

let t: TestServer | undefined
afterEach(async () => {
  if (!t) return
  await t.stop()
  await rm(t.root, { recursive: true, force: true })
  t = undefined
})

async function start(): Promise<TestServer> {
  t = await startTestServer(await mkdtemp(join(tmpdir(), 'berth-life-')))
  return t
}

const api = apiClient(() => {
  if (!t) throw new Error('no server')
  return t.server.url
})

async function events(sessionId: string, device: string) {
  return (await api(`/api/sessions/${sessionId}/events?limit=10000`, { device })).body.events as {
    id: string
    seq: number
    event_type: string
    event_payload: { content: any }
  }[]
}

describe('server lifecycle', () => {
  it('shuts down gracefully on SIGTERM with a run in flight, recording the interruption, and continues after restart', async () => {
    const server = await start()
    server.llm.enqueue({ text: 'Working on it', hang: true })
    const socket = await connect(server.wsUrl({ device_id: 'grace' }))
    const sessionId = (await socket.next('connection_established')).content.session_uuid as string
    socket.send({ type: 'query', content: { text: 'Long task' } })
    await socket.next('agent_response_delta')

    const stopping = Date.now()
    expect(await server.server.stop('SIGTERM')).toBe(0)
    expect(Date.now() - stopping).toBeLessThan(10_000)

    await server.restart()
    const afterRestart = await events(sessionId, 'grace')
    const interrupt = afterRestart.find((e) => e.event_type === 'agent_response_interrupted')
    expect(interrupt?.event_payload.content.reason).toBe('shutdown')
    expect(afterRestart.at(-1)?.event_type).toBe('stream_complete')
    expect((await api(`/api/sessions/${sessionId}/info`, { device: 'grace' })).body.session.status).toBe('interrupted')

    // Continue the session: the model gets the earlier turn as history.
    server.llm.enqueue({ text: 'Picking up where we left off.' })
    const again = await connect(server.wsUrl({ device_id: 'grace', session_uuid: sessionId }))
    await again.next('connection_established')
    again.send({ type: 'query', content: { text: 'Please continue' } })
    await again.next('stream_complete')
    const lastRequest = server.llm.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] }
    const history = JSON.stringify(lastRequest.messages)
    expect(history).toContain('Long task')
    expect(history).toContain('Please continue')
    await again.close()
  })

  it('after SIGKILL mid-run keeps every event a client saw, marks the run interrupted, still serves the site, and continues', async () => {
    const server = await start()
    server.llm.enqueue(
      {
        toolCalls: [
          {
            name: 'str_replace_editor',
            arguments: { command: 'create', path: 'site/index.html', file_text: '<h1>Survives a crash</h1>\n' },
          },
        ],
      },
      { toolCalls: [{ name: 'static_deploy', arguments: { file_path: 'site' } }] },
      { text: 'Deployed, now polishing', hang: true },
    )
    const socket = await connect(server.wsUrl({ device_id: 'crash' }))
    const sessionId = (await socket.next('connection_established')).content.session_uuid as string
    socket.send({ type: 'query', content: { text: 'Build and deploy a page' } })
    const deployResult = await socket.next((f) => f.type === 'tool_result' && f.content.tool_name === 'static_deploy')
    expect(String(deployResult.content.result)).toContain(`/workspace/${sessionId}/site/`)
    await socket.next('agent_response_delta')
    const seen = socket.frames.filter((f: Frame) => typeof f.seq === 'number')

    server.server.child.kill('SIGKILL')
    await server.server.exited
    await server.restart()

    const stored = await events(sessionId, 'crash')
    const storedIds = new Set(stored.map((e) => e.id))
    for (const frame of seen) expect(storedIds.has(frame.id as string)).toBe(true)
    const interrupt = stored.find((e) => e.event_type === 'agent_response_interrupted')
    expect(interrupt?.event_payload.content.reason).toBe('crashed')
    expect((await api(`/api/sessions/${sessionId}/info`, { device: 'crash' })).body.session.status).toBe('interrupted')

    const site = await fetch(`${server.server.url}/workspace/${sessionId}/site/`)
    expect(site.status).toBe(200)
    expect(await site.text()).toBe('<h1>Survives a crash</h1>\n')

    server.llm.enqueue({ text: 'Continuing after the crash.' })
    const again = await connect(server.wsUrl({ device_id: 'crash', session_uuid: sessionId }))
    await again.next('connection_established')
    again.send({ type: 'query', content: { text: 'Carry on' } })
    expect((await again.next('agent_response')).content.text).toBe('Continuing after the crash.')
    await again.close()
  })
})

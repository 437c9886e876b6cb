import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { type BerthProcess, startServer } from '../helpers/berth-process.js'
import { postgresUnavailableReason, sharedPostgres } from '../helpers/postgres.js'
import { freshBucket, radosgwClient, radosgwUnavailableReason, sharedRadosgw } from '../helpers/radosgw.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { connect, type Frame, type TestSocket } from '../helpers/ws-client.js'

// Three `berth serve` processes on one PostgreSQL and one S3 (Ceph radosgw),
// each with its own data folder, no shared disk and no sticky sessions: the
// deployment of docs/deploy.md's scale-out section, for real.

const skip = postgresUnavailableReason() ?? radosgwUnavailableReason()
if (skip) console.warn(`three-instance test skipped: ${skip}`)

const DEVICE = 'scale-device'
const servers: BerthProcess[] = []
const sockets: TestSocket[] = []
let llm: ScriptedLlm | undefined

afterAll(async () => {
  for (const socket of sockets) await socket.close().catch(() => undefined)
  for (const server of servers) await server.stop('SIGTERM').catch(() => undefined)
  await llm?.close()
})

type Server = BerthProcess & { url: string; port: number }

function wsUrl(server: Server, sessionId: string | null, after?: number): string {
  const query = new URLSearchParams({ device_id: DEVICE })
  if (sessionId) query.set('session_uuid', sessionId)
  if (after !== undefined) query.set('after', String(after))
  return `${server.url.replace('http', 'ws')}/ws?${query}`
}

async function open(server: Server, sessionId: string | null, after?: number): Promise<TestSocket> {
  const socket = await connect(wsUrl(server, sessionId, after))
  sockets.push(socket)
  await socket.next('connection_established')
  return socket
}

async function storedSeqs(server: Server, sessionId: string): Promise<{ seq: number; type: string }[]> {
  const response = await fetch(`${server.url}/api/sessions/${sessionId}/events?limit=1000`, {
    headers: { 'x-device-id': DEVICE },
  })
  const body = (await response.json()) as { events: { seq: number; event_type: string }[] }
  return body.events.map((event) => ({ seq: event.seq, type: event.event_type }))
}

async function download(server: Server, sessionId: string, path: string): Promise<string> {
  const query = new URLSearchParams({ workspace_id: sessionId, path })
  const response = await fetch(`${server.url}/api/files/download?${query}`, { headers: { 'x-device-id': DEVICE } })
  expect(response.status, await response.clone().text()).toBe(200)
  return response.text()
}

const seqsOf = (frames: Frame[]) => frames.filter((f) => typeof f.seq === 'number').map((f) => f.seq as number)

describe.skipIf(Boolean(skip))('three berth instances on one PostgreSQL and one radosgw', { timeout: 240_000 }, () => {
  it('share runs: viewers everywhere, cancel from anywhere, takeover after SIGKILL, one winner of a race', async () => {
    const [postgres, rgw] = await Promise.all([
      sharedPostgres(inject('postgresRunDir')),
      sharedRadosgw(inject('radosgwRunDir')),
    ])
    const databaseUrl = await postgres.createDatabase()
    const bucket = await freshBucket(rgw, 'scale')
    llm = await startScriptedOpenAi()
    const env = {
      DATABASE_URL: databaseUrl,
      BERTH_WORKSPACE_URL: `s3://${bucket}/berth`,
      AWS_ACCESS_KEY_ID: rgw.accessKeyId,
      AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
      AWS_REGION: rgw.region,
      AWS_ENDPOINT_URL_S3: rgw.endpoint,
      CHUTES_API_KEY: 'test-key',
      CHUTES_BASE_URL: llm.url,
      BERTH_LLM_RETRY_DELAY_MS: '1',
      BERTH_LLM_MAX_RETRIES: '1',
      // info: startServer waits for the 'listening on' line.
      BERTH_LOG_LEVEL: 'info',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    }
    const start = async () => {
      const root = await tempDir()
      const server = await startServer({ cwd: root, env, args: ['--data-dir', root], readyTimeoutMs: 120_000 })
      servers.push(server)
      return server
    }
    const [a, b, c] = await Promise.all([start(), start(), start()])
    if (!a || !b || !c) throw new Error('an instance did not start')

    // 1. A run on A, watched from B and C: every stored event reaches both, in order, once.
    const onA = await open(a, null)
    const sessionId = onA.frames[0]?.content.session_uuid as string
    llm.enqueue(
      {
        toolCalls: [
          {
            id: 'call_1',
            name: 'str_replace_editor',
            arguments: { command: 'create', path: 'notes/a.txt', file_text: 'written on A' },
          },
        ],
      },
      { text: 'Done on A.' },
    )
    onA.send({ type: 'query', content: { text: 'write a note', resume: false, files: [] } })
    await onA.next('processing')
    const onB = await open(b, sessionId, 0)
    const onC = await open(c, sessionId, 0)
    await onA.next('stream_complete', 30_000)
    await onB.next('stream_complete', 30_000)
    await onC.next('stream_complete', 30_000)
    const stored = await storedSeqs(c, sessionId)
    expect(stored.map((e) => e.type)).toContain('tool_result')
    expect(seqsOf(onB.frames)).toEqual(stored.map((e) => e.seq))
    expect(seqsOf(onC.frames)).toEqual(stored.map((e) => e.seq))
    // Streamed tokens of A's run reached the viewers on B, batched, adding up to the answer.
    const streamed = onB.frames.filter((f) => f.type === 'agent_response_delta').map((f) => f.content.text as string)
    expect(streamed.length).toBeGreaterThan(0)
    expect(streamed.join('')).toBe('Done on A.')
    // The file went to S3: C serves it without A.
    expect(await download(c, sessionId, 'notes/a.txt')).toBe('written on A')

    // 2. Cancel from B stops the run on A.
    llm.enqueue({ text: 'thinking…', hang: true })
    const requestsBefore = llm.requests.length
    onA.send({ type: 'query', content: { text: 'think for a long time', resume: true, files: [] } })
    await llm.waitForRequests(requestsBefore + 1, 30_000)
    onB.send({ type: 'cancel', content: {} })
    const interrupted = await onC.next((f) => f.type === 'agent_response_interrupted', 30_000)
    expect(interrupted.content.reason).toBe('cancelled')
    await onA.next((f) => f.type === 'stream_complete' && f.content.status === 'interrupted', 30_000)

    // 3. SIGKILL of A mid-run: another instance marks it interrupted within 15 s; files synced before stay.
    llm.enqueue(
      {
        toolCalls: [
          {
            id: 'call_2',
            name: 'str_replace_editor',
            arguments: { command: 'create', path: 'notes/b.txt', file_text: 'synced before the kill' },
          },
        ],
      },
      { text: 'still going', hang: true },
    )
    const beforeKill = llm.requests.length
    onA.send({ type: 'query', content: { text: 'write another note, then think', resume: true, files: [] } })
    await onC.next((f) => f.type === 'tool_result' && f.content.tool_call_id === 'call_2', 30_000)
    await llm.waitForRequests(beforeKill + 2, 30_000)
    const killedAt = Date.now()
    await a.stop('SIGKILL')
    const crashed = await onB.next(
      (f) => f.type === 'agent_response_interrupted' && f.content.reason === 'crashed',
      30_000,
    )
    const takeoverMs = Date.now() - killedAt
    expect(crashed.seq).toBeGreaterThan(0)
    expect(takeoverMs).toBeLessThanOrEqual(15_000)
    await onC.next(
      (f) => f.type === 'stream_complete' && f.seq !== undefined && f.seq > (crashed.seq as number),
      30_000,
    )
    expect(await download(b, sessionId, 'notes/b.txt')).toBe('synced before the kill')

    // 4. The session continues on C, with its history.
    llm.enqueue({ text: 'Continued on C.' })
    const continueOnC = await open(c, sessionId)
    continueOnC.send({ type: 'query', content: { text: 'go on', resume: true, files: [] } })
    const answer = await continueOnC.next('agent_response', 30_000)
    expect(answer.content.text).toBe('Continued on C.')
    await continueOnC.next('stream_complete', 30_000)
    const history = JSON.stringify(llm.requests.at(-1)?.body)
    expect(history).toContain('write a note')
    expect(history).toContain('synced before the kill')

    // 5. Two instances start the same session at once: exactly one runs it.
    llm.enqueue({ text: 'one', hang: true })
    llm.setFallback({ text: 'two' })
    const raceB = await open(b, sessionId)
    const raceC = await open(c, sessionId)
    raceB.send({ type: 'query', content: { text: 'race from B', resume: true, files: [] } })
    raceC.send({ type: 'query', content: { text: 'race from C', resume: true, files: [] } })
    const outcomes = await Promise.all(
      [raceB, raceC].map((socket) =>
        socket.next(
          (f) => f.type === 'processing' || (f.type === 'error' && f.content.error_code !== undefined),
          30_000,
        ),
      ),
    )
    expect(outcomes.map((f) => f.type).sort()).toEqual(['error', 'processing'])
    expect(outcomes.find((f) => f.type === 'error')?.content.error_code).toBe('QUERY_IN_PROGRESS')
    const userMessages = (await storedSeqs(b, sessionId)).filter((e) => e.type === 'user_message')
    expect(userMessages).toHaveLength(5)

    // 6. Deleting the session (an explicit request) is refused while it runs anywhere, then removes its files from S3.
    const remove = () =>
      fetch(`${c.url}/api/sessions/${sessionId}`, { method: 'DELETE', headers: { 'x-device-id': DEVICE } })
    expect((await remove()).status).toBe(409)
    raceC.send({ type: 'cancel', content: {} })
    await raceB.next((f) => f.type === 'stream_complete' && f.content.status === 'interrupted', 30_000)
    // The end is stored just before the status is set: allow the owner that moment.
    let deleted = await remove()
    for (let i = 0; deleted.status === 409 && i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      deleted = await remove()
    }
    expect(deleted.status, await deleted.clone().text()).toBe(200)
    const left = await radosgwClient(rgw).send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `berth/workspace/${sessionId}/` }),
    )
    expect(left.KeyCount ?? 0).toBe(0)
    console.log(`three instances: takeover after SIGKILL ${takeoverMs} ms`)
  })
})

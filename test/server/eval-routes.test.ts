import { mkdtempSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evalEnv, readResults, writeDataset } from '../eval/fixtures.js'
import { startBerth } from '../helpers/berth-process.js'
import { startTestServer, type TestServer } from '../helpers/berth-server.js'
import { apiClient, serverForFile } from './harness.js'

/** The dataset the server runs (BERTH_GAIA_DATA), written before the first start. */
const DATA = mkdtempSync(join(tmpdir(), 'berth-gaia-data-'))
const TASKS = [
  { task_id: 'num-ok', Question: 'How many dollars?', Level: 1, 'Final answer': '1000' },
  { task_id: 'num-wrong', Question: 'How many cats?', Level: 1, 'Final answer': '3' },
  { task_id: 'list', Question: 'Which fruits?', Level: 2, 'Final answer': 'apple, banana' },
  { task_id: 'fails', Question: 'Capital of France?', Level: 3, 'Final answer': 'Paris' },
]

beforeAll(async () => {
  await writeDataset(DATA, TASKS)
})
afterAll(async () => {
  await rm(DATA, { recursive: true, force: true })
})

const server = serverForFile({ BERTH_GAIA_DATA: DATA })
const api = apiClient(() => server().server.url)
const post = (path: string, body: unknown) => api(path, { method: 'POST', body: JSON.stringify(body) })

/** Ask until `check` accepts the answer (a run moves on in the background). */
async function until<T>(ask: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await ask()
    if (check(value)) return value
    if (Date.now() > deadline) throw new Error(`gave up waiting; last answer: ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('GAIA routes', () => {
  it('POST /api/gaia/run waits for the run and answers in the reference shape, with the accuracy per level', async () => {
    const t = server()
    // Concurrency 1 keeps the order of model requests, so each task gets its own scripted answer.
    t.llm.enqueue(
      { text: 'Adding up.\nFINAL ANSWER: $1,000' },
      { text: 'FINAL ANSWER: 3.5' },
      { text: '**FINAL ANSWER:** Apple; Banana' },
      { status: 400, errorMessage: 'bad request' },
    )
    const before = t.llm.requests.length
    const answer = await post('/api/gaia/run', {
      run_name: 'ref',
      max_tasks: 4,
      model_id: 'deepseek-ai/DeepSeek-V3-0324',
      model_provider: 'chutes',
      concurrency: 1,
    })
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.body.status).toBe('success')
    const runName = answer.body.summary.run_name as string
    expect(runName).toMatch(/^ref-[0-9a-f]{8}$/)
    expect(answer.body.summary).toMatchObject({
      total_tasks_processed_by_script: 4,
      tasks_with_successful_prediction: 3,
      completion_rate_of_predictions: 0.75,
      set_to_run: 'validation',
      results_file: `eval/${runName}/results.jsonl`,
      accuracy: 0.5,
      correct: 2,
      scored: 4,
      errors: 1,
      interrupted: 0,
      model: 'chutes:deepseek-ai/DeepSeek-V3-0324',
      levels: { '1': { tasks: 2, correct: 1, accuracy: 0.5 }, '2': { correct: 1, accuracy: 1 }, '3': { accuracy: 0 } },
    })
    const results = answer.body.results as { task_id: string; prediction: string | null; correct: boolean }[]
    expect(results.map((r) => [r.task_id, r.prediction, r.correct])).toEqual([
      ['num-ok', '$1,000', true],
      ['num-wrong', '3.5', false],
      ['list', 'Apple; Banana', true],
      ['fails', null, false],
    ])
    // What the route answered is what the runner wrote, and the model asked for is the one called.
    expect((await readResults(t.root, runName)).map((r) => r.task_id)).toEqual(results.map((r) => r.task_id))
    expect(t.llm.requests.slice(before).every((r) => r.model === 'deepseek-ai/DeepSeek-V3-0324')).toBe(true)

    // A second call is a new run (the reference appended a fresh id to run_name), and max_tasks is honoured.
    t.llm.enqueue({ text: 'FINAL ANSWER: 1000' })
    const second = await post('/api/gaia/run', { run_name: 'ref', max_tasks: 1 })
    expect(second.body.summary).toMatchObject({ total_tasks_processed_by_script: 1, accuracy: 1 })
    expect(second.body.summary.run_name).not.toBe(runName)

    const listed = await api('/api/eval/runs')
    const names = listed.body.runs.map((r: { run_name: string }) => r.run_name)
    expect(names).toEqual(expect.arrayContaining([runName, second.body.summary.run_name]))
    expect(listed.body.runs.find((r: { run_name: string }) => r.run_name === runName)).toMatchObject({
      status: 'finished',
      runner: null,
      summary: { tasks: 4, finished: 4, accuracy: 0.5 },
    })
  })

  it('starts a run, shows its tasks live, stops it cleanly, resumes it, and opens a task replay by share link', async () => {
    const t = server()
    t.llm.enqueue({ text: 'FINAL ANSWER: 1000' }, { text: 'counting…', hang: true })
    const started = await post('/api/eval/runs', { run_name: 'live', max_tasks: 3, concurrency: 1 })
    expect(started.status, JSON.stringify(started.body)).toBe(202)
    expect(started.body).toMatchObject({ run_name: 'live', planned: 3, run: { status: 'running', runner: 'server' } })

    const midway = await until(
      () => api('/api/eval/runs/live'),
      (r) => r.body.tasks?.length === 2 && r.body.tasks[1].status === 'running',
    )
    const [first, second] = midway.body.tasks
    expect(first).toMatchObject({
      task_id: 'num-ok',
      level: '1',
      question: 'How many dollars?',
      status: 'completed',
      prediction: '1000',
      true_answer: '1000',
      correct: true,
    })
    expect(first.duration_ms).toBeGreaterThanOrEqual(0)
    expect(first.session_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(second).toMatchObject({ task_id: 'num-wrong', status: 'running', prediction: null, duration_ms: null })
    expect(midway.body.run).toMatchObject({ status: 'running', planned: 3, summary: { finished: 1, correct: 1 } })
    const listed = await api('/api/eval/runs')
    expect(listed.body.runs[0]).toMatchObject({ run_name: 'live', status: 'running', runner: 'server' })
    expect(listed.body.dataset).toMatchObject({ dir: DATA, splits: { validation: true, test: false } })

    // One runner per run name.
    const again = await post('/api/eval/runs', { run_name: 'live', max_tasks: 3 })
    expect(again.status).toBe(409)
    expect(again.body.code).toBe('EVAL_RUN_LOCKED')

    // The running task's session replays through a share link, live, like any session.
    const shared = await post(`/api/eval/runs/live/sessions/${second.session_id}/share`, {})
    expect(shared.status, JSON.stringify(shared.body)).toBe(200)
    expect(shared.body.path).toBe(`/share/${shared.body.share.token}`)
    const events = await api(`/api/share/${shared.body.share.token}/events`)
    expect(JSON.stringify(events.body.events[0])).toContain('How many cats?')
    expect((await post(`/api/eval/runs/live/sessions/${second.session_id}/share`, {})).body.reused).toBe(true)
    // Only the run's own sessions: another run's, or a made-up id, is not found.
    expect((await post(`/api/eval/runs/other/sessions/${second.session_id}/share`, {})).status).toBe(404)

    const stopped = await post('/api/eval/runs/live/stop', {})
    expect(stopped.status).toBe(200)
    expect(stopped.body).toMatchObject({ was_running: true, run: { status: 'stopped', runner: null } })
    expect(stopped.body.tasks.map((task: { status: string }) => task.status)).toEqual(['completed', 'interrupted'])
    // The third task never started, and stopping a stopped run changes nothing.
    expect((await post('/api/eval/runs/live/stop', {})).body).toMatchObject({ was_running: false })

    // Starting the same name resumes: the finished task is skipped, the interrupted one runs again.
    t.llm.enqueue({ text: 'FINAL ANSWER: 3' }, { text: 'FINAL ANSWER: apple, banana' })
    const resumed = await post('/api/eval/runs', { run_name: 'live', max_tasks: 3, concurrency: 1 })
    expect(resumed.status).toBe(202)
    const done = await until(
      () => api('/api/eval/runs/live'),
      (r) => r.body.run.status === 'finished',
    )
    expect(
      done.body.tasks.map((task: { task_id: string; attempt: number; correct: boolean }) => [
        task.task_id,
        task.attempt,
        task.correct,
      ]),
    ).toEqual([
      ['num-ok', 1, true],
      ['num-wrong', 2, true],
      ['list', 1, true],
    ])
    expect(done.body.run.summary).toMatchObject({ tasks: 3, correct: 3, accuracy: 1, attempts: 4 })
  })

  it('lists a run made by `berth eval gaia` on the same data root, running (not stoppable here) and after', async () => {
    const t = server()
    t.llm.enqueue({ text: 'FINAL ANSWER: 1000' }, { hang: true })
    const cli = startBerth(
      ['eval', 'gaia', '--data', DATA, '--run-name', 'from-cli', '--end', '2', '--concurrency', '1'],
      {
        cwd: t.root,
        env: evalEnv(t.root, t.llm.url),
      },
    )
    try {
      const running = await until(
        () => api('/api/eval/runs/from-cli'),
        (r) => r.status === 200 && r.body.tasks.length === 2,
      )
      expect(running.body.run).toMatchObject({ status: 'running', runner: 'other', planned: null })
      expect(running.body.tasks.map((task: { status: string }) => task.status)).toEqual(['completed', 'running'])
      const refused = await post('/api/eval/runs/from-cli/stop', {})
      expect(refused.status).toBe(409)
      expect(refused.body.code).toBe('EVAL_RUN_LOCKED')
      expect((await post('/api/eval/runs', { run_name: 'from-cli', max_tasks: 2 })).body.code).toBe('EVAL_RUN_LOCKED')
    } finally {
      expect(await cli.stop('SIGINT')).toBe(130)
    }
    const after = await api('/api/eval/runs')
    expect(after.body.runs.find((r: { run_name: string }) => r.run_name === 'from-cli')).toMatchObject({
      status: 'stopped',
      runner: null,
      summary: { tasks: 2, finished: 1, correct: 1, interrupted: 1, model: 'chutes:deepseek-ai/DeepSeek-V3-0324' },
    })
  })

  it('a server shutdown mid-run leaves its tasks interrupted, to run again on the next start, not failed', async () => {
    const t = server()
    t.llm.enqueue({ text: 'thinking', hang: true })
    expect((await post('/api/eval/runs', { run_name: 'restart', max_tasks: 3, concurrency: 1 })).status).toBe(202)
    await until(
      () => api('/api/eval/runs/restart'),
      (r) => r.body.tasks?.[0]?.status === 'running',
    )
    await t.restart()
    const after = await api('/api/eval/runs/restart')
    expect(after.body.run).toMatchObject({ status: 'stopped', runner: null, summary: { errors: 0, finished: 0 } })
    expect(after.body.tasks.length).toBeGreaterThan(0)
    for (const task of after.body.tasks)
      expect(task).toMatchObject({ status: 'interrupted', error: { code: 'EVAL_TASK_INTERRUPTED' } })
  })

  it('refuses bad input and a missing dataset with a clear error that names the setting and the CLI command', async () => {
    const missing = await post('/api/gaia/run', { set_to_run: 'test', max_tasks: 1 })
    expect(missing.status).toBe(404)
    expect(missing.body).toMatchObject({ status: 'error', code: 'EVAL_DATASET_NOT_FOUND' })
    expect(missing.body.message).toContain('BERTH_GAIA_DATA')
    expect(missing.body.message).toContain(`berth eval gaia --from-hub --data ${DATA} --split test`)
    const native = await post('/api/eval/runs', { run_name: 'no-data', split: 'test' })
    expect(native.status).toBe(404)
    expect(native.body.code).toBe('EVAL_DATASET_NOT_FOUND')
    // Nothing was left behind for a run that never started.
    expect((await api('/api/eval/runs/no-data')).status).toBe(404)

    expect((await post('/api/gaia/run', { max_tasks: 0 })).status).toBe(400)
    expect((await post('/api/gaia/run', { run_name: '../up' })).status).toBe(400)
    expect((await post('/api/eval/runs', { run_name: 'x', concurrency: 'many' })).status).toBe(400)
    expect((await api('/api/eval/runs/..%2Fup')).status).toBe(400)
    expect((await api('/api/eval/runs/never-ran')).body.code).toBe('EVAL_RUN_NOT_FOUND')
    const unknownModel = await post('/api/eval/runs', { run_name: 'nokey', model_id: 'anthropic:claude-sonnet-4-0' })
    expect(unknownModel.body.code).toBe('LLM_NOT_CONFIGURED')
    // The same zod schemas document the routes.
    const paths = (await api('/openapi.json')).body.paths
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/api/gaia/run', '/api/eval/runs/{name}/stop']))
    expect(
      paths['/api/gaia/run'].post.requestBody.content['application/json'].schema.properties.max_tasks,
    ).toMatchObject({
      default: 5,
    })
  })
})

describe('GAIA routes with a server token', () => {
  const guarded = serverForFile({ BERTH_GAIA_DATA: DATA, BERTH_AUTH_TOKEN: 'eval-secret-token' })
  const guardedApi = apiClient(() => guarded().server.url)

  it('need the token: they spend model credit and run code', async () => {
    expect((await guardedApi('/api/eval/runs')).status).toBe(401)
    const run = await guardedApi('/api/gaia/run', { method: 'POST', body: JSON.stringify({ max_tasks: 1 }) })
    expect(run.status).toBe(401)
    expect(guarded().llm.requests).toHaveLength(0)
    expect((await guardedApi('/api/eval/runs', { token: 'eval-secret-token' })).status).toBe(200)
  })
})

describe('GAIA routes with HF_TOKEN and no dataset yet', () => {
  const HUB_TOKEN = 'hf_route_token'
  const SHA = 'feedfacefeedfacefeedfacefeedfacefeedface'
  const metadata = `${JSON.stringify({ task_id: 'h1', Question: 'Two plus two?', Level: 1, 'Final answer': '4' })}\n`
  const hubPaths: string[] = []
  let hub: Server
  let t: TestServer
  let data = ''

  beforeAll(async () => {
    // A stand-in for the hub's two routes (file list, file), gated by the token as GAIA is.
    hub = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://hub')
      hubPaths.push(url.pathname)
      if (req.headers.authorization !== `Bearer ${HUB_TOKEN}`) {
        res.writeHead(401).end()
      } else if (url.pathname === '/api/datasets/gaia-benchmark/GAIA/revision/main') {
        res.writeHead(200, { 'content-type': 'application/json' })
        const siblings = [{ rfilename: '2023/validation/metadata.jsonl', size: Buffer.byteLength(metadata) }]
        res.end(JSON.stringify({ sha: SHA, siblings }))
      } else if (url.pathname === `/datasets/gaia-benchmark/GAIA/resolve/${SHA}/2023/validation/metadata.jsonl`) {
        res.end(metadata)
      } else {
        res.writeHead(404).end()
      }
    })
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve))
    const root = await mkdtemp(join(tmpdir(), 'berth-server-'))
    data = join(root, 'downloaded-gaia')
    t = await startTestServer(root, {
      env: {
        BERTH_GAIA_DATA: data,
        HF_TOKEN: HUB_TOKEN,
        HF_ENDPOINT: `http://127.0.0.1:${(hub.address() as AddressInfo).port}`,
      },
    })
  })
  afterAll(async () => {
    await t?.stop()
    await new Promise((resolve) => hub?.close(resolve))
    if (t) await rm(t.root, { recursive: true, force: true })
  })

  it('downloads the split into BERTH_GAIA_DATA on the first run, then runs it', async () => {
    const hubApi = apiClient(() => t.server.url)
    expect((await hubApi('/api/eval/runs')).body.dataset).toMatchObject({
      dir: data,
      splits: { validation: false },
      downloadable: true,
    })
    t.llm.enqueue({ text: 'FINAL ANSWER: 4' })
    const answer = await hubApi('/api/gaia/run', { method: 'POST', body: JSON.stringify({ max_tasks: 1 }) })
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.body.summary).toMatchObject({ total_tasks_processed_by_script: 1, accuracy: 1 })
    expect(await readFile(join(data, '2023', 'validation', 'metadata.jsonl'), 'utf8')).toBe(metadata)
    expect(hubPaths[0]).toBe('/api/datasets/gaia-benchmark/GAIA/revision/main')
    // Once there, it is not fetched again.
    const fetched = hubPaths.length
    t.llm.enqueue({ text: 'FINAL ANSWER: 4' })
    expect((await hubApi('/api/gaia/run', { method: 'POST', body: JSON.stringify({ max_tasks: 1 }) })).status).toBe(200)
    expect(hubPaths).toHaveLength(fetched)
  })
})

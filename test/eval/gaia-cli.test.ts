import { appendFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { RunSummary } from '../../src/eval/eval-summary.js'
import { runBerth, startBerth } from '../helpers/berth-process.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { evalEnv, readResults, runSessions, writeDataset } from './fixtures.js'

let llm: ScriptedLlm
afterEach(async () => {
  await llm?.close()
})

type ChatMessage = { role: string; content?: unknown }

const lastUserText = (index: number): string => {
  const messages = llm.requests[index]?.body.messages as ChatMessage[]
  return String(messages.filter((m) => m.role === 'user').at(-1)?.content ?? '')
}

describe('berth eval gaia', () => {
  it('runs every task as a labelled session, scores it the GAIA way, and reports per level', async () => {
    llm = await startScriptedOpenAi()
    const root = await tempDir()
    const data = await writeDataset(
      join(root, 'gaia'),
      [
        { task_id: 'num-ok', Question: 'How many dollars?', Level: 1, 'Final answer': '1000' },
        { task_id: 'num-wrong', Question: 'How many cats?', Level: 1, 'Final answer': '3' },
        { task_id: 'list', Question: 'Which fruits?', Level: 2, 'Final answer': 'apple, banana' },
        { task_id: 'file', Question: 'Which bird?', Level: 2, 'Final answer': 'Sea Gull', file_name: 'bird.txt' },
        { task_id: 'fails', Question: 'Capital of France?', Level: 3, 'Final answer': 'Paris' },
      ],
      { 'bird.txt': 'the bird is a sea gull\n' },
    )
    // Concurrency 1 keeps the order of model requests, so each task gets its own scripted answer.
    llm.enqueue(
      { text: 'Adding up.\nFINAL ANSWER: $1,000' },
      { text: 'FINAL ANSWER: 3.5' },
      { text: '**FINAL ANSWER:** Apple; Banana' },
      { toolCalls: [{ id: 'call_1', name: 'bash', arguments: { command: 'cat uploaded_files/bird.txt' } }] },
      { text: 'FINAL ANSWER: seagull' },
      { status: 400, errorMessage: 'bad request' },
    )
    const env = evalEnv(root, llm.url)
    const run = await runBerth(['eval', 'gaia', '--data', data, '--run-name', 'full', '--concurrency', '1'], {
      cwd: root,
      env,
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^1 +2 +2 +1 +50\.0% +0 +0$/m)
    expect(run.stdout).toMatch(/^3 +1 +1 +0 +0\.0% +1 +0$/m)
    expect(run.stdout).toMatch(/^all +5 +5 +3 +60\.0% +1 +0$/m)
    expect(run.stderr).toContain('[5/5] fails (level 3): error LLM_REQUEST_FAILED')

    const results = await readResults(root, 'full')
    expect(results.map((r) => [r.task_id, r.status, r.prediction, r.true_answer, r.correct, r.level])).toEqual([
      ['num-ok', 'completed', '$1,000', '1000', true, '1'],
      ['num-wrong', 'completed', '3.5', '3', false, '1'],
      ['list', 'completed', 'Apple; Banana', 'apple, banana', true, '2'],
      ['file', 'completed', 'seagull', 'Sea Gull', true, '2'],
      ['fails', 'error', null, 'Paris', false, '3'],
    ])
    expect(results[4]?.error?.code).toBe('LLM_REQUEST_FAILED')
    expect(results[3]).toMatchObject({ turns: 2, file_name: 'bird.txt', attempt: 1 })
    expect(results[0]?.token_counts.input).toBeGreaterThan(0)
    expect(results[0]?.duration_ms).toBeGreaterThanOrEqual(0)

    // The prompt asks for the GAIA template and points at the copied attachment, which the agent could read.
    expect(lastUserText(0)).toContain('FINAL ANSWER: [YOUR FINAL ANSWER]')
    expect(lastUserText(0)).toContain('Question: How many dollars?')
    expect(lastUserText(3)).toContain('uploaded_files/bird.txt')
    const toolMessage = ((llm.requests[4]?.body.messages ?? []) as ChatMessage[]).find((m) => m.role === 'tool')
    expect(String(toolMessage?.content)).toContain('the bird is a sea gull')

    const { sessions } = await runSessions(root, 'full')
    expect(sessions).toHaveLength(5)
    expect(new Set(sessions.map((s) => s.id))).toEqual(new Set(results.map((r) => r.session_id)))
    for (const session of sessions) {
      expect(session).toMatchObject({ deviceId: 'gaia-eval', label: 'gaia:full', status: 'idle' })
      expect(session.name).toMatch(/^GAIA /)
      expect(session.id).not.toBe(results.find((r) => r.session_id === session.id)?.task_id)
    }
    const fileSession = results[3]?.session_id as string
    expect(await readFile(join(root, 'workspace', fileSession, 'uploaded_files', 'bird.txt'), 'utf8')).toBe(
      'the bird is a sea gull\n',
    )
  })

  it('survives SIGKILL and Ctrl-C: finished tasks are not rerun, cut-off ones rerun in new sessions, none lost', async () => {
    llm = await startScriptedOpenAi()
    const root = await tempDir()
    const data = await writeDataset(
      join(root, 'gaia'),
      ['t1', 't2', 't3', 't4'].map((id) => ({ task_id: id, Question: `Task ${id}?`, Level: 1, 'Final answer': '42' })),
    )
    const env = evalEnv(root, llm.url)
    const args = ['eval', 'gaia', '--data', data, '--run-name', 'crashy']

    // 1. Two tasks finish, two hang; then the runner is killed outright.
    llm.enqueue({ text: 'FINAL ANSWER: 42' }, { text: 'FINAL ANSWER: 42' }, { hang: true }, { hang: true })
    const first = startBerth([...args, '--concurrency', '2'], { cwd: root, env })
    await llm.waitForRequests(4, 20_000)
    expect((await readResults(root, 'crashy')).map((r) => r.task_id).sort()).toEqual(['t1', 't2'])
    expect(await first.stop('SIGKILL')).toBe('SIGKILL')
    const killed = (await runSessions(root, 'crashy')).sessions.filter((s) => s.status === 'running')
    expect(killed).toHaveLength(2)

    // 2. Resume: the killed attempts are closed as interrupted; t3 runs again and is stopped with Ctrl-C.
    llm.enqueue({ text: 'thinking', hang: true })
    const second = startBerth([...args, '--concurrency', '1'], { cwd: root, env })
    await llm.waitForRequests(5, 20_000)
    expect(lastUserText(4)).toContain('Task t3?')
    expect(await second.stop('SIGINT')).toBe(130)
    expect(second.output().stdout).toMatch(/^all +4 +2 +2 +100\.0% +0 +2$/m)
    let results = await readResults(root, 'crashy')
    // Lines in the order attempts ended: the two finished, the two found cut off at resume, the Ctrl-C one.
    const lines = results.map((r) => `${r.task_id}/${r.attempt} ${r.status}`)
    expect(lines.slice(0, 2).sort()).toEqual(['t1/1 completed', 't2/1 completed'])
    expect(lines.slice(2, 4).sort()).toEqual(['t3/1 interrupted', 't4/1 interrupted'])
    expect(lines[4]).toBe('t3/2 interrupted')
    expect(new Set(results.slice(2, 4).map((r) => r.session_id))).toEqual(new Set(killed.map((s) => s.id)))

    // A torn line, as a crash in the middle of a write could leave, is tolerated.
    await appendFile(join(root, 'eval', 'crashy', 'results.jsonl'), '{"task_id":"t4","attem')

    // 3. Resume again: only t3 and t4 run, each in a fresh session.
    llm.setFallback({ text: 'FINAL ANSWER: 42' })
    const third = await runBerth([...args, '--concurrency', '2'], { cwd: root, env })
    expect(third.code, third.stderr).toBe(0)
    expect(third.stdout).toMatch(/^all +4 +4 +4 +100\.0% +0 +0$/m)
    expect(third.stderr).toContain('2 task(s) already finished')
    expect(llm.requests).toHaveLength(7)
    results = await readResults(root, 'crashy')
    expect(results).toHaveLength(7)
    const latest = new Map(results.map((r) => [r.task_id, r]))
    expect([...latest.values()].every((r) => r.status === 'completed' && r.correct === true)).toBe(true)
    expect(latest.get('t3')?.attempt).toBe(3)
    expect(latest.get('t4')?.attempt).toBe(2)

    // Every attempt's session is kept and listable by the run's label; the cut-off ones say so.
    const { sessions, events } = await runSessions(root, 'crashy')
    expect(sessions).toHaveLength(7)
    expect(new Set(sessions.map((s) => s.id))).toEqual(new Set(results.map((r) => r.session_id)))
    const interrupted = sessions.filter((s) => s.status === 'interrupted').map((s) => s.id)
    expect(new Set(interrupted)).toEqual(
      new Set(results.filter((r) => r.status === 'interrupted').map((r) => r.session_id)),
    )
    const reasons = interrupted.map((id) => {
      const stop = events.get(id)?.find((e) => e.type === 'agent_response_interrupted')
      return (JSON.parse(stop?.payload ?? '{}') as { content?: { reason?: string } }).content?.reason
    })
    expect(reasons.sort()).toEqual(['cancelled', 'crashed', 'crashed'])
    for (const id of interrupted) expect(events.get(id)?.at(-1)?.type).toBe('stream_complete')

    const report = await runBerth(['eval', 'report', 'crashy', '--json'], { cwd: root, env })
    expect(report.code, report.stderr).toBe(0)
    expect(JSON.parse(report.stdout) as RunSummary).toMatchObject({
      run_name: 'crashy',
      split: 'validation',
      model: 'chutes:deepseek-ai/DeepSeek-V3-0324',
      tasks: 4,
      finished: 4,
      correct: 4,
      accuracy: 1,
      errors: 0,
      interrupted: 0,
      attempts: 7,
      levels: { '1': { tasks: 4, accuracy: 1 } },
      skipped_lines: ['results.jsonl:6'],
    })
  })
})

import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BerthError } from '../../src/core/errors.js'
import { evalRunPaths, loadRunState } from '../../src/eval/eval-run-files.js'
import { formatSummary, summarizeRun } from '../../src/eval/eval-summary.js'
import type { AttemptRecord, ResultRecord } from '../../src/eval/gaia-records.js'
import { JsonlAppender, readJsonl } from '../../src/eval/jsonl-file.js'
import { acquireRunLock } from '../../src/eval/run-lock.js'
import { tempDir } from '../helpers/temp-dir.js'

const attempt = (taskId: string, n: number, level = '1'): AttemptRecord => ({
  task_id: taskId,
  attempt: n,
  session_id: `${taskId}-s${n}`,
  level,
  question: `Question ${taskId}?`,
  true_answer: '42',
  file_name: null,
  started_at: '2025-01-01T00:00:00.000Z',
})

const result = (
  taskId: string,
  n: number,
  status: ResultRecord['status'],
  correct: boolean | null,
  level = '1',
): ResultRecord => ({
  ...attempt(taskId, n, level),
  status,
  prediction: correct ? '42' : '41',
  correct,
  response: null,
  model: 'chutes:m',
  ended_at: '2025-01-01T00:00:01.000Z',
  duration_ms: 1000,
  turns: 1,
  token_counts: { input: 10, output: 2 },
  error: status === 'error' ? { code: 'LLM_REQUEST_FAILED', message: 'down' } : null,
})

describe('eval run files', () => {
  it('appends whole lines, and after a torn last line starts a fresh one; readers skip only the torn line', async () => {
    const dir = await tempDir()
    const file = join(dir, 'results.jsonl')
    const log = await JsonlAppender.open(file)
    await Promise.all([log.append({ n: 1 }), log.append({ n: 2, text: 'x'.repeat(100_000) })])
    await log.close()
    // What SIGKILL can leave in the middle of a large write.
    await appendFile(file, '{"n": 3, "text": "xx')
    expect(await readJsonl(file)).toMatchObject({ lines: [{ line: 1, value: { n: 1 } }, { line: 2 }], skipped: [3] })

    const again = await JsonlAppender.open(file)
    await again.append({ n: 4 })
    await again.close()
    const { lines, skipped } = await readJsonl(file)
    expect(lines.map((line) => (line.value as { n: number }).n)).toEqual([1, 2, 4])
    expect(skipped).toEqual([3])
    expect((await readFile(file, 'utf8')).endsWith('{"n":4}\n')).toBe(true)
    expect(await readJsonl(join(dir, 'missing.jsonl'))).toEqual({ lines: [], skipped: [] })
  })

  it('refuses run names that are not a plain folder name', () => {
    expect(evalRunPaths('/data', 'gpt-4.1_run.2').results).toBe('/data/eval/gpt-4.1_run.2/results.jsonl')
    for (const name of ['', '../x', 'a/b', '.hidden', 'x'.repeat(101), 'spaced name']) {
      expect(() => evalRunPaths('/data', name), name).toThrow(BerthError)
    }
  })

  it('lets one runner hold a run at a time', async () => {
    const dir = await tempDir()
    const lock = acquireRunLock(join(dir, '.run.lock'), 'r')
    expect(() => acquireRunLock(join(dir, '.run.lock'), 'r')).toThrow(/already being run/)
    lock.release()
    acquireRunLock(join(dir, '.run.lock'), 'r').release()
  })

  it('counts each task by its last attempt; a later attempt without a result is interrupted', async () => {
    const root = await tempDir()
    const paths = evalRunPaths(root, 'r')
    await mkdir(paths.dir, { recursive: true })
    const results = [
      result('a', 1, 'completed', true),
      result('b', 1, 'interrupted', null),
      result('b', 2, 'completed', false),
      result('c', 1, 'error', false, '2'),
      result('d', 1, 'completed', true, '2'),
      result('e', 1, 'interrupted', null, '3'),
    ]
    const attempts = [
      ...results.map(({ task_id, attempt: n, level }) => attempt(task_id, n, level)),
      attempt('d', 2, '2'),
    ]
    await writeFile(paths.results, `${results.map((r) => JSON.stringify(r)).join('\n')}\n{"torn`)
    await writeFile(paths.attempts, `${attempts.map((a) => JSON.stringify(a)).join('\n')}\n`)
    const state = await loadRunState(paths)
    expect(state.orphans.map((o) => o.session_id)).toEqual(['d-s2'])
    expect(state.attemptCounts.get('d')).toBe(2)
    const summary = summarizeRun('r', state)
    expect(summary).toMatchObject({
      tasks: 5,
      finished: 3,
      correct: 1,
      scored: 3,
      errors: 1,
      interrupted: 2,
      attempts: 7,
      tokens: { input: 60, output: 12 },
      skipped_lines: ['results.jsonl:7'],
    })
    expect(summary.accuracy).toBeCloseTo(1 / 3)
    expect(summary.levels).toMatchObject({
      '1': { tasks: 2, finished: 2, correct: 1, accuracy: 0.5 },
      '2': { tasks: 2, finished: 1, correct: 0, errors: 1, interrupted: 1 },
      '3': { tasks: 1, finished: 0, accuracy: null, interrupted: 1 },
    })
    const table = formatSummary(summary)
    expect(table).toMatch(/^1 +2 +2 +1 +50\.0% +0 +0$/m)
    expect(table).toMatch(/^3 +1 +0 +0 +- +0 +1$/m)
    expect(table).toMatch(/^all +5 +3 +1 +33\.3% +1 +2$/m)
    expect(table).toContain('results.jsonl:7')
  })
})

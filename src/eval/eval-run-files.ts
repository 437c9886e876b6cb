import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { BerthError } from '../core/errors.js'
import { writeFileAtomic } from '../workspace/atomic-write.js'
import { AttemptRecord, ResultRecord, RunManifest } from './gaia-records.js'
import { readJsonl } from './jsonl-file.js'

/** The files of one eval run, all under `<root>/eval/<run-name>/`. */
export interface EvalRunPaths {
  runName: string
  dir: string
  results: string
  attempts: string
  manifest: string
  lock: string
}

const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

/**
 * Where a run keeps its files. The name becomes a folder and the sessions'
 * label (`gaia:<name>`), so it is limited to letters, digits, `.`, `_`, `-`.
 *
 * @example
 *   evalRunPaths('/var/data', 'deepseek-v3').results // '/var/data/eval/deepseek-v3/results.jsonl'
 */
export function evalRunPaths(root: string, runName: string): EvalRunPaths {
  if (!RUN_NAME.test(runName)) {
    throw new BerthError(
      'EVAL_RUN_NAME_INVALID',
      `Run name ${JSON.stringify(runName)} is not allowed: use up to 100 letters, digits, '.', '_' or '-', ` +
        'starting with a letter or digit.',
      { details: { runName } },
    )
  }
  const dir = path.join(root, 'eval', runName)
  return {
    runName,
    dir,
    results: path.join(dir, 'results.jsonl'),
    attempts: path.join(dir, 'attempts.jsonl'),
    manifest: path.join(dir, 'run.json'),
    lock: path.join(dir, '.run.lock'),
  }
}

/** The label that tags a run's sessions, so the UI and `GET /api/sessions/gaia-eval?label=` list them. */
export function runLabel(runName: string): string {
  return `gaia:${runName}`
}

/** What a run has done so far, read back from its files. */
export interface RunState {
  manifest: RunManifest | null
  /** Every result line, in file order. */
  results: ResultRecord[]
  /** The last result of each task (a later attempt supersedes an earlier one). */
  latest: Map<string, ResultRecord>
  /** How many attempts each task has had. */
  attemptCounts: Map<string, number>
  /** Attempts that never got a result: the runner died while they ran. */
  orphans: AttemptRecord[]
  /** Lines that could not be read (`results.jsonl:7`): a torn line from a crash, or a hand edit. */
  skipped: string[]
}

/**
 * Read a run's manifest, attempts and results. Unreadable lines are
 * reported in `skipped`, never fatal: the task they described just runs again.
 *
 * @example
 *   const state = await loadRunState(evalRunPaths(root, 'smoke'))
 *   state.latest.get(taskId)?.correct
 */
export async function loadRunState(paths: EvalRunPaths): Promise<RunState> {
  const skipped: string[] = []
  const results = await readRecords(paths.results, ResultRecord, skipped)
  const attempts = await readRecords(paths.attempts, AttemptRecord, skipped)
  const latest = new Map<string, ResultRecord>()
  const ended = new Set<string>()
  for (const result of results) {
    latest.set(result.task_id, result)
    ended.add(result.session_id)
  }
  const attemptCounts = new Map<string, number>()
  for (const attempt of [...attempts, ...results]) {
    attemptCounts.set(attempt.task_id, Math.max(attemptCounts.get(attempt.task_id) ?? 0, attempt.attempt))
  }
  const orphans = attempts.filter((attempt) => !ended.has(attempt.session_id))
  return { manifest: await readManifest(paths), results, latest, attemptCounts, orphans, skipped }
}

export async function readManifest(paths: EvalRunPaths): Promise<RunManifest | null> {
  let text: string
  try {
    text = await readFile(paths.manifest, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  const parsed = RunManifest.safeParse(safeJson(text))
  if (!parsed.success) {
    throw new BerthError('EVAL_RUN_MISMATCH', `${paths.manifest} is not a valid run manifest; fix or move it.`, {
      details: { file: paths.manifest },
    })
  }
  return parsed.data
}

export async function writeManifest(paths: EvalRunPaths, manifest: RunManifest): Promise<void> {
  await writeFileAtomic(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`)
}

async function readRecords<T>(
  file: string,
  schema: { safeParse(v: unknown): { success: boolean; data?: T } },
  skipped: string[],
): Promise<T[]> {
  const { lines, skipped: unreadable } = await readJsonl(file)
  const name = path.basename(file)
  for (const line of unreadable) skipped.push(`${name}:${line}`)
  const records: T[] = []
  for (const { line, value } of lines) {
    const parsed = schema.safeParse(value)
    if (parsed.success) records.push(parsed.data as T)
    else skipped.push(`${name}:${line}`)
  }
  return records
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

import path from 'node:path'
import type { EvalRunPaths, RunState } from './eval-run-files.js'
import type { RunSummary, ScoreLine } from './eval-summary.js'
import type { AttemptRecord, ResultRecord } from './gaia-records.js'

/** How much of a question the task table shows; the session replay has the whole prompt. */
const QUESTION_EXCERPT = 240

/** One task of a run as the HTTP API shows it: its last attempt, running or ended. */
export interface EvalTaskRow {
  task_id: string
  level: string
  question: string
  attempt: number
  /** `running` only while a runner holds the run; an attempt without a result otherwise was cut off. */
  status: 'running' | ResultRecord['status']
  prediction: string | null
  true_answer: string | null
  correct: boolean | null
  session_id: string
  started_at: string
  ended_at: string | null
  duration_ms: number | null
  error: { code: string; message: string } | null
}

/**
 * The tasks of a run, each by its last attempt, in the order those attempts
 * started (so a page shows tasks as they start and fills them in as they end).
 *
 * @example
 *   taskRows(await loadRunState(paths), true)[0] // { task_id: 't1', status: 'running', prediction: null, … }
 */
export function taskRows(state: RunState, running: boolean): EvalTaskRow[] {
  const last = new Map<string, EvalTaskRow>()
  for (const record of [...state.results, ...state.orphans]) {
    const known = last.get(record.task_id)
    const ended = isResult(record)
    // Of equal attempts the result wins over the attempt line it closes.
    if (known !== undefined && (record.attempt < known.attempt || (record.attempt === known.attempt && !ended))) {
      continue
    }
    const base = {
      task_id: record.task_id,
      level: record.level,
      question: excerpt(record.question),
      attempt: record.attempt,
      true_answer: record.true_answer,
      session_id: record.session_id,
      started_at: record.started_at,
    }
    last.set(
      record.task_id,
      isResult(record)
        ? {
            ...base,
            status: record.status,
            prediction: record.prediction,
            correct: record.correct,
            ended_at: record.ended_at,
            duration_ms: record.duration_ms,
            error: record.error,
          }
        : {
            ...base,
            status: running ? 'running' : 'interrupted',
            prediction: null,
            correct: null,
            ended_at: null,
            duration_ms: null,
            error: null,
          },
    )
  }
  return [...last.values()].sort((a, b) => a.started_at.localeCompare(b.started_at))
}

/** When the run last did something: its newest start or end. */
export function lastActivity(state: RunState): string | null {
  let newest: string | null = null
  for (const record of [...state.results, ...state.orphans]) {
    for (const time of [record.started_at, isResult(record) ? record.ended_at : null]) {
      if (time !== null && (newest === null || time > newest)) newest = time
    }
  }
  return newest
}

/** The summary `POST /api/gaia/run` answers: the reference's keys, then berth's scores. */
export interface ReferenceSummary {
  total_tasks_processed_by_script: number
  tasks_with_successful_prediction: number
  completion_rate_of_predictions: number
  run_name: string
  set_to_run: string
  results_file: string
  accuracy: number | null
  correct: number
  scored: number
  errors: number
  interrupted: number
  levels: Record<string, ScoreLine>
  model: string | null
}

/**
 * The reference route's summary of a run's results (it counted the lines of
 * its results file and those with a non-empty prediction), plus berth's
 * official-rule accuracy overall and per level. `results` are the run's
 * results, one per task.
 *
 * @example
 *   referenceSummary(summary, results, paths, root).completion_rate_of_predictions // 0.8
 */
export function referenceSummary(
  summary: RunSummary,
  results: readonly ResultRecord[],
  paths: EvalRunPaths,
  root: string,
): ReferenceSummary {
  const total = results.length
  // Python truthiness, as the reference's `if r.get('prediction')`: null and '' do not count.
  const predicted = results.filter((result) => result.prediction !== null && result.prediction !== '').length
  return {
    total_tasks_processed_by_script: total,
    tasks_with_successful_prediction: predicted,
    completion_rate_of_predictions: total > 0 ? predicted / total : 0,
    run_name: paths.runName,
    set_to_run: summary.split ?? 'validation',
    results_file: path.relative(root, paths.results),
    accuracy: summary.accuracy,
    correct: summary.correct,
    scored: summary.scored,
    errors: summary.errors,
    interrupted: summary.interrupted,
    levels: summary.levels,
    model: summary.model,
  }
}

function isResult(record: AttemptRecord | ResultRecord): record is ResultRecord {
  return 'ended_at' in record
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length <= QUESTION_EXCERPT ? flat : `${flat.slice(0, QUESTION_EXCERPT - 1)}…`
}

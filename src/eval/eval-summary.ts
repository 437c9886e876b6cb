import type { RunState } from './eval-run-files.js'

export interface ScoreLine {
  /** Tasks attempted at least once. */
  tasks: number
  /** Tasks whose last attempt completed or failed. */
  finished: number
  correct: number
  /** Finished tasks with a public answer to score against. */
  scored: number
  /** correct / scored; null when nothing was scored. */
  accuracy: number | null
  /** Tasks whose last attempt failed (an LLM error, the turn limit, a bad attachment…). */
  errors: number
  /** Tasks whose last attempt was cut off (Ctrl-C, a killed runner) or is running now: they run again on resume. */
  interrupted: number
}

export interface RunSummary extends ScoreLine {
  run_name: string
  split: string | null
  model: string | null
  /** Per GAIA level (`'1'`, `'2'`, `'3'`). */
  levels: Record<string, ScoreLine>
  /** Tokens of every attempt, interrupted ones included: what the run cost. */
  tokens: { input: number; output: number }
  attempts: number
  /** Lines of the run's files that could not be read (`results.jsonl:7`). */
  skipped_lines: string[]
}

/**
 * Accuracy overall and per level from a run's files, counting each task by
 * its last attempt.
 *
 * @example
 *   const summary = summarizeRun('smoke', await loadRunState(paths))
 *   summary.accuracy // 0.6
 */
export function summarizeRun(runName: string, state: RunState): RunSummary {
  const lastAttempt = new Map<string, { level: string; attempt: number }>()
  for (const record of [...state.results, ...state.orphans]) {
    const known = lastAttempt.get(record.task_id)
    if (known === undefined || record.attempt >= known.attempt) {
      lastAttempt.set(record.task_id, { level: record.level, attempt: record.attempt })
    }
  }
  const total = emptyLine()
  const levels: Record<string, ScoreLine> = {}
  for (const [taskId, { level, attempt }] of lastAttempt) {
    const perLevel = levels[level] ?? emptyLine()
    levels[level] = perLevel
    const lines = [total, perLevel]
    const result = state.latest.get(taskId)
    // A later attempt without a result (killed, or running now) outranks an older result.
    const current = result !== undefined && result.attempt >= attempt ? result : undefined
    for (const line of lines) {
      line.tasks++
      if (current === undefined || current.status === 'interrupted') {
        line.interrupted++
        continue
      }
      line.finished++
      if (current.status === 'error') line.errors++
      if (current.correct !== null) line.scored++
      if (current.correct === true) line.correct++
    }
  }
  for (const line of [total, ...Object.values(levels)])
    line.accuracy = line.scored === 0 ? null : line.correct / line.scored
  const tokens = { input: 0, output: 0 }
  for (const result of state.results) {
    tokens.input += result.token_counts.input
    tokens.output += result.token_counts.output
  }
  const attempts = new Set([...state.results, ...state.orphans].map((record) => record.session_id)).size
  const sortedLevels = Object.fromEntries(Object.entries(levels).sort(([a], [b]) => Number(a) - Number(b)))
  return {
    run_name: runName,
    split: state.manifest?.split ?? null,
    model: state.manifest?.model ?? null,
    ...total,
    levels: sortedLevels,
    tokens,
    attempts,
    skipped_lines: state.skipped,
  }
}

/**
 * The summary as a terminal table.
 *
 * @example
 *   process.stdout.write(formatSummary(summary))
 *   // level  tasks  finished  correct  accuracy  errors  interrupted
 *   // 1          3         3        2     66.7%       0            0
 */
export function formatSummary(summary: RunSummary): string {
  const head = ['level', 'tasks', 'finished', 'correct', 'accuracy', 'errors', 'interrupted']
  const row = (name: string, line: ScoreLine): string[] => [
    name,
    String(line.tasks),
    String(line.finished),
    String(line.correct),
    line.accuracy === null ? '-' : `${(line.accuracy * 100).toFixed(1)}%`,
    String(line.errors),
    String(line.interrupted),
  ]
  const rows = [head, ...Object.entries(summary.levels).map(([level, line]) => row(level, line)), row('all', summary)]
  const widths = head.map((_, column) => Math.max(...rows.map((cells) => (cells[column] ?? '').length)))
  const table = rows.map((cells) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join('  '),
  )
  const about = [summary.split, summary.model].filter((part) => part !== null).join(', ')
  const lines = [`GAIA run ${summary.run_name}${about.length > 0 ? ` (${about})` : ''}`, ...table]
  lines.push(`${summary.attempts} attempts, ${summary.tokens.input} input and ${summary.tokens.output} output tokens.`)
  if (summary.interrupted > 0) lines.push(`${summary.interrupted} unfinished: run the same command again to resume.`)
  if (summary.skipped_lines.length > 0) {
    lines.push(`Skipped unreadable lines (torn by a crash?): ${summary.skipped_lines.join(', ')}`)
  }
  return `${lines.join('\n')}\n`
}

function emptyLine(): ScoreLine {
  return { tasks: 0, finished: 0, correct: 0, scored: 0, accuracy: null, errors: 0, interrupted: 0 }
}

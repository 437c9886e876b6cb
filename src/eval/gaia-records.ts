import { z } from 'zod'

/**
 * What the runner writes under `<root>/eval/<run>/`. Field names are
 * snake_case, as in the reference runner's output, so existing scripts that
 * read `task_id`, `prediction` and `true_answer` keep working.
 */

const tokens = z.object({ input: z.number(), output: z.number() })
const failure = z.object({ code: z.string(), message: z.string() })

/** `attempts.jsonl`: written before a task starts, so a killed runner's tasks are found again. */
export const AttemptRecord = z.object({
  task_id: z.string(),
  attempt: z.number().int().min(1),
  session_id: z.string(),
  level: z.string(),
  question: z.string(),
  true_answer: z.string().nullable(),
  file_name: z.string().nullable(),
  started_at: z.string(),
})
export type AttemptRecord = z.infer<typeof AttemptRecord>

/**
 * `results.jsonl`: one line per attempt that ended. `completed` (the agent
 * answered) and `error` (the run failed) finish a task; `interrupted` (Ctrl-C,
 * or found at resume after the runner was killed) leaves it to run again.
 */
export const ResultRecord = AttemptRecord.extend({
  status: z.enum(['completed', 'error', 'interrupted']),
  prediction: z.string().nullable(),
  /** The scorer's verdict; null when the split has no public answer or the task did not finish. */
  correct: z.boolean().nullable(),
  /** The agent's whole last response. */
  response: z.string().nullable(),
  model: z.string(),
  ended_at: z.string(),
  duration_ms: z.number().nullable(),
  turns: z.number(),
  token_counts: tokens,
  error: failure.nullable(),
})
export type ResultRecord = z.infer<typeof ResultRecord>

/** `run.json`: what the run is about, so a resume cannot silently mix splits. */
export const RunManifest = z.object({
  run_name: z.string(),
  split: z.enum(['validation', 'test']),
  dataset: z.string(),
  model: z.string(),
  created_at: z.string(),
})
export type RunManifest = z.infer<typeof RunManifest>

/** Finished tasks are not run again; `retryErrors` counts failed ones as unfinished. */
export function isFinished(result: ResultRecord | undefined, retryErrors = false): boolean {
  if (result === undefined) return false
  return result.status === 'completed' || (result.status === 'error' && !retryErrors)
}

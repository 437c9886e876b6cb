import { createReadStream } from 'node:fs'
import path from 'node:path'
import { recoverInterruptedRuns } from '../agent/run-endings.js'
import type { RunManager, RunOutcome } from '../agent/runs.js'
import { isBerthError } from '../core/errors.js'
import { newId } from '../core/ids.js'
import type { Logger } from '../logging/logger.js'
import type { Store } from '../store/store.js'
import type { WorkspaceStorage } from '../workspace/workspace-storage.js'
import type { Workspaces } from '../workspace/workspaces.js'
import { type EvalRunPaths, loadRunState, type RunState, runLabel } from './eval-run-files.js'
import { attachmentPath, type GaiaDataset, type GaiaTask } from './gaia-dataset.js'
import { extractFinalAnswer, gaiaPrompt } from './gaia-prompt.js'
import { type AttemptRecord, isFinished, type ResultRecord } from './gaia-records.js'
import { scoreGaiaAnswer } from './gaia-scorer.js'
import { JsonlAppender } from './jsonl-file.js'

/** The device id of eval sessions, as in the reference runner. */
export const EVAL_DEVICE_ID = 'gaia-eval'

export interface GaiaRunnerDeps {
  store: Store
  workspaces: Workspaces
  /** Where sessions' workspaces live (`Runtime.workspaceStorage`); the local folders of `workspaces` by default. */
  workspaceStorage?: WorkspaceStorage
  runs: RunManager
  logger: Logger
}

export interface GaiaRunOptions {
  paths: EvalRunPaths
  dataset: GaiaDataset
  /** The tasks to run, in order; finished ones are skipped. */
  tasks: readonly GaiaTask[]
  concurrency: number
  /** What results record as the model (`provider:model`). */
  model: string
  /** Passed to each run; unset: the configured default model. */
  modelId?: string
  maxTurns?: number
  /** Run tasks whose last result is an error again. */
  retryErrors?: boolean
  /** Aborting stops the run: no new task starts, running ones are cancelled and recorded as interrupted. */
  signal?: AbortSignal
  /** Once the plan is known: how many tasks will run and how many were finished before. */
  onPlan?(plan: { todo: number; skipped: number; recovered: number }): void
  onTaskStart?(task: GaiaTask, attempt: number): void
  onTaskEnd?(result: ResultRecord): void
}

export interface GaiaRunReport {
  /** Tasks skipped because an earlier invocation finished them. */
  skipped: number
  /** Attempts a killed runner left behind, closed as interrupted before this one started. */
  recovered: number
  /** Results written by this invocation, in the order they ended. */
  results: ResultRecord[]
  /** True when the signal stopped the run before every task ran. */
  stopped: boolean
  /** Unreadable lines found in the run's files. */
  skippedLines: string[]
}

/**
 * Run GAIA tasks as ordinary sessions: each attempt gets a fresh session
 * (device `gaia-eval`, label `gaia:<run>`, its own workspace with the
 * attachment in `uploaded_files/`), and its result goes to `results.jsonl`
 * once it ends. Resumable: finished tasks are skipped, and attempts a killed
 * runner left behind are closed as interrupted (their sessions kept) and run
 * again in new sessions. The caller holds the run lock.
 *
 * @example
 *   const report = await runGaia({ store, workspaces, runs, logger }, { paths, dataset, tasks, concurrency: 4,
 *     model: 'chutes:deepseek-ai/DeepSeek-V3-0324', signal })
 */
export async function runGaia(deps: GaiaRunnerDeps, options: GaiaRunOptions): Promise<GaiaRunReport> {
  const state = await loadRunState(options.paths)
  const results = await JsonlAppender.open(options.paths.results)
  const attempts = await JsonlAppender.open(options.paths.attempts)
  try {
    const recovered = await closeOrphans(deps, state, results, options.model)
    const todo = options.tasks.filter((task) => !isFinished(state.latest.get(task.taskId), options.retryErrors))
    options.onPlan?.({ todo: todo.length, skipped: options.tasks.length - todo.length, recovered })
    const runner = new TaskRunner(deps, options, state, results, attempts)
    const ended: ResultRecord[] = []
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < todo.length && options.signal?.aborted !== true) {
        const task = todo[next++] as GaiaTask
        ended.push(await runner.run(task))
      }
    }
    const workers = Math.max(1, Math.min(options.concurrency, todo.length))
    await Promise.all(Array.from({ length: workers }, worker))
    return {
      skipped: options.tasks.length - todo.length,
      recovered,
      results: ended,
      stopped: next < todo.length || ended.some((result) => result.status === 'interrupted'),
      skippedLines: state.skipped,
    }
  } finally {
    await results.close()
    await attempts.close()
  }
}

/**
 * Attempts without a result were cut off by a runner that died: their
 * sessions (if still `running`) get the interrupt events any crashed run
 * gets, and the attempt a result line `interrupted`. Nothing is deleted.
 */
async function closeOrphans(
  deps: GaiaRunnerDeps,
  state: RunState,
  results: JsonlAppender,
  model: string,
): Promise<number> {
  if (state.orphans.length === 0) return 0
  const ours = new Set(state.orphans.map((orphan) => orphan.session_id))
  // Only this run's cut-off sessions: any other running session belongs to someone else (a server).
  await recoverInterruptedRuns(deps.store, (sessionId) => !ours.has(sessionId), deps.logger)
  const endedAt = new Date().toISOString()
  for (const orphan of state.orphans) {
    const result: ResultRecord = {
      ...orphan,
      status: 'interrupted',
      prediction: null,
      correct: null,
      response: null,
      model,
      ended_at: endedAt,
      duration_ms: null,
      turns: 0,
      token_counts: { input: 0, output: 0 },
      error: { code: 'EVAL_TASK_INTERRUPTED', message: 'The runner stopped (killed or crashed) while this task ran.' },
    }
    await results.append(result)
    state.latest.set(orphan.task_id, result)
  }
  return state.orphans.length
}

class TaskRunner {
  constructor(
    private readonly deps: GaiaRunnerDeps,
    private readonly options: GaiaRunOptions,
    private readonly state: RunState,
    private readonly results: JsonlAppender,
    private readonly attempts: JsonlAppender,
  ) {}

  async run(task: GaiaTask): Promise<ResultRecord> {
    const attemptNumber = (this.state.attemptCounts.get(task.taskId) ?? 0) + 1
    this.state.attemptCounts.set(task.taskId, attemptNumber)
    const attempt: AttemptRecord = {
      task_id: task.taskId,
      attempt: attemptNumber,
      session_id: newId(),
      level: task.level,
      question: task.question,
      true_answer: task.finalAnswer,
      file_name: task.fileName,
      started_at: new Date().toISOString(),
    }
    this.options.onTaskStart?.(task, attemptNumber)
    // Written first: if this process dies from here on, the next runner finds the attempt.
    await this.attempts.append(attempt)
    const started = performance.now()
    let outcome: RunOutcome | null = null
    let failure: { code: string; message: string } | null = null
    try {
      outcome = await this.execute(task, attempt.session_id)
    } catch (error) {
      // The server shutting down before the task's run started is an interruption (run again on resume), not an error.
      if (!isBerthError(error, 'RUNS_SHUT_DOWN')) {
        failure = isBerthError(error)
          ? { code: error.code, message: error.message }
          : { code: 'EVAL_TASK_FAILED', message: error instanceof Error ? error.message : String(error) }
        this.deps.logger.error({ err: error, task: task.taskId, session: attempt.session_id }, 'GAIA task failed')
      }
    }
    const result = this.toResult(attempt, outcome, failure, performance.now() - started)
    await this.results.append(result)
    this.state.latest.set(task.taskId, result)
    this.options.onTaskEnd?.(result)
    return result
  }

  /** Session, workspace, attachment, then the run; null when stopped before the run started. */
  private async execute(task: GaiaTask, sessionId: string): Promise<RunOutcome | null> {
    const { store, workspaces, runs } = this.deps
    const { signal } = this.options
    await store.createSession({
      id: sessionId,
      workspaceDir: workspaces.dirFor(sessionId),
      deviceId: EVAL_DEVICE_ID,
      name: `GAIA ${task.taskId}`,
      label: runLabel(this.options.paths.runName),
    })
    await (this.deps.workspaceStorage ?? workspaces.storage).create(sessionId)
    const upload = await this.copyAttachment(task, sessionId)
    if (signal?.aborted) return null
    await runs.start({
      sessionId,
      text: gaiaPrompt(task.question, upload),
      files: upload === null ? [] : [upload],
      deviceId: EVAL_DEVICE_ID,
      // The reference GAIA runner's tools (src/tools/toolset.ts GAIA_TOOL_NAMES), not the chat's full set.
      toolset: 'gaia',
      ...(this.options.modelId === undefined ? {} : { modelId: this.options.modelId }),
      ...(this.options.maxTurns === undefined ? {} : { maxTurns: this.options.maxTurns }),
    })
    const cancel = (): void => void runs.cancel(sessionId)
    signal?.addEventListener('abort', cancel, { once: true })
    try {
      if (signal?.aborted) cancel()
      return await runs.wait(sessionId)
    } finally {
      signal?.removeEventListener('abort', cancel)
    }
  }

  /** The attachment into `uploaded_files/`, under its own name; its workspace-relative path. */
  private async copyAttachment(task: GaiaTask, sessionId: string): Promise<string | null> {
    const source = await attachmentPath(this.options.dataset, task)
    if (source === null) return null
    const relative = `uploaded_files/${path.basename(source)}`
    // Through the storage the run reads from (on S3, the bucket), with the quota checked as it is written.
    const storage = this.deps.workspaceStorage ?? this.deps.workspaces.storage
    await storage.write(sessionId, relative, createReadStream(source))
    return relative
  }

  private toResult(
    attempt: AttemptRecord,
    outcome: RunOutcome | null,
    failure: { code: string; message: string } | null,
    durationMs: number,
  ): ResultRecord {
    const interrupted = failure === null && (outcome === null || outcome.status === 'interrupted')
    const status =
      failure !== null || outcome?.status === 'failed' ? 'error' : interrupted ? 'interrupted' : 'completed'
    const response = outcome?.answer ?? null
    const prediction = extractFinalAnswer(response)
    const error =
      failure ??
      outcome?.error ??
      (interrupted ? { code: 'EVAL_TASK_INTERRUPTED', message: 'The run was stopped before the task finished.' } : null)
    return {
      ...attempt,
      status,
      prediction,
      // An interrupted attempt is not a wrong answer: it is not scored at all.
      correct:
        attempt.true_answer === null || status === 'interrupted'
          ? null
          : scoreGaiaAnswer(prediction, attempt.true_answer),
      response,
      model: this.options.model,
      ended_at: new Date().toISOString(),
      duration_ms: Math.round(durationMs),
      turns: outcome?.turns ?? 0,
      token_counts: { input: outcome?.usage.inputTokens ?? 0, output: outcome?.usage.outputTokens ?? 0 },
      error,
    }
  }
}

import { mkdir, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import type { RunManager } from '../agent/runs.js'
import type { BerthConfig } from '../config/config.js'
import { BerthError, isBerthError } from '../core/errors.js'
import type { Logger } from '../logging/logger.js'
import type { Store } from '../store/store.js'
import type { WorkspaceStorage } from '../workspace/workspace-storage.js'
import type { Workspaces } from '../workspace/workspaces.js'
import { type EvalRunPaths, evalRunPaths, loadRunState, type RunState } from './eval-run-files.js'
import { type RunSummary, summarizeRun } from './eval-summary.js'
import { type EvalTaskRow, lastActivity, taskRows } from './eval-views.js'
import { type GaiaDataset, type GaiaSplit, loadGaiaDataset, metadataCandidates } from './gaia-dataset.js'
import { runGaia } from './gaia-runner.js'
import { ensureManifest, evalModel, fetchGaiaFromHub, selectTasks } from './gaia-setup.js'
import { acquireRunLock, runLockHeld } from './run-lock.js'

export interface EvalServiceDeps {
  config: BerthConfig
  /** The data root: runs live in `<root>/eval/<run-name>/`. */
  root: string
  store: Store
  workspaces: Workspaces
  /** Where sessions' workspaces live (`ServerContext.workspaceStorage`). */
  workspaceStorage?: WorkspaceStorage
  /** The server's own run manager, so task sessions are watched live like any session. */
  runs: RunManager
  logger: Logger
}

export interface StartEvalInput {
  runName: string
  split: GaiaSplit
  /** The first N tasks in dataset order (the reference's `max_tasks`); unset: all of them. */
  maxTasks?: number | undefined
  /** Exactly these tasks; wins over maxTasks. */
  taskIds?: readonly string[] | undefined
  /** `provider:model` or a bare id; unset: BERTH_MODEL. */
  modelId?: string | undefined
  concurrency: number
  maxTurns?: number | undefined
  retryErrors?: boolean | undefined
}

export type EvalRunStatus = 'running' | 'finished' | 'stopped'

/** One run as `GET /api/eval/runs` lists it. */
export interface EvalRunInfo {
  run_name: string
  status: EvalRunStatus
  /** Who runs it now: this server, another berth process (`berth eval gaia`), or nobody. */
  runner: 'server' | 'other' | null
  /** Tasks the last start from this server selected; null when it was not started here. */
  planned: number | null
  created_at: string | null
  updated_at: string | null
  /** Why a run started here ended early (the dataset vanished, the disk filled…). */
  error: { code: string; message: string } | null
  summary: RunSummary
}

export interface EvalRunDetail {
  run: EvalRunInfo
  tasks: EvalTaskRow[]
}

interface ActiveRun {
  paths: EvalRunPaths
  controller: AbortController
  planned: number
  done: Promise<void>
}

interface EndedHere {
  planned: number
  stopped: boolean
  error: { code: string; message: string } | null
}

/**
 * GAIA runs inside the server process: the CLI's runner (runGaia) with the
 * server's RunManager, one runner per run name (the same file lock as
 * `berth eval gaia`, so a CLI run shows as running and cannot be started
 * twice), and the runs found under `<root>/eval/` read back from their files.
 *
 * @example
 *   const service = new EvalService({ config, root, store, workspaces, runs, logger })
 *   const run = await service.start({ runName: 'ui-1', split: 'validation', maxTasks: 5, concurrency: 2 })
 *   await run.done
 */
export class EvalService {
  private readonly active = new Map<string, ActiveRun>()
  private readonly starting = new Set<string>()
  private readonly endedHere = new Map<string, EndedHere>()
  /** Downloads in progress, per split: starts that need the same split wait for one download. */
  private readonly downloads = new Map<GaiaSplit, Promise<void>>()
  private closing = false

  constructor(private readonly deps: EvalServiceDeps) {}

  /** The dataset folder: BERTH_GAIA_DATA, else where `berth eval gaia --from-hub` downloads it. */
  datasetDir(): string {
    const { config, root } = this.deps
    return path.resolve(config.gaiaData ?? path.join(root, 'eval', 'hub', ...config.gaiaDataset.split('/')))
  }

  /** Which splits the dataset folder holds, and whether a missing one would be downloaded (HF_TOKEN). */
  async datasetStatus(): Promise<{ dir: string; splits: Record<GaiaSplit, boolean>; downloadable: boolean }> {
    const dir = this.datasetDir()
    const present = async (split: GaiaSplit): Promise<boolean> => {
      for (const file of metadataCandidates(dir, split)) {
        if ((await stat(file).catch(() => null))?.isFile()) return true
      }
      return false
    }
    return {
      dir,
      splits: { validation: await present('validation'), test: await present('test') },
      downloadable: this.deps.config.hfToken !== undefined,
    }
  }

  /**
   * Check everything, take the run's lock and start it in the background;
   * resolves once it runs (`done` settles when it ends). Fails with the
   * dataset, model, selection or lock error before anything runs.
   */
  async start(input: StartEvalInput): Promise<{ runName: string; planned: number; done: Promise<void> }> {
    const paths = evalRunPaths(this.deps.root, input.runName)
    if (this.closing) throw new BerthError('RUNS_SHUT_DOWN', 'The server is shutting down; no new runs start.')
    if (this.active.has(paths.runName) || this.starting.has(paths.runName)) throw lockedHere(paths.runName)
    this.starting.add(paths.runName)
    try {
      const model = evalModel(this.deps.config, input.modelId)
      const dataset = await this.loadDataset(input.split)
      const tasks = await selectTasks(dataset, {
        end: input.taskIds?.length ? undefined : input.maxTasks,
        taskIds: input.taskIds,
      })
      await mkdir(paths.dir, { recursive: true })
      const lock = acquireRunLock(paths.lock, paths.runName)
      try {
        const warning = await ensureManifest(paths, { split: input.split, dataset: dataset.dir, model })
        if (warning !== null) this.deps.logger.warn({ run: paths.runName }, warning)
      } catch (error) {
        lock.release()
        throw error
      }
      const run: ActiveRun = {
        paths,
        controller: new AbortController(),
        planned: tasks.length,
        done: Promise.resolve(),
      }
      this.active.set(paths.runName, run)
      this.endedHere.delete(paths.runName)
      this.deps.logger.info({ run: paths.runName, tasks: tasks.length, model }, 'GAIA run started')
      const { store, workspaces, workspaceStorage, runs, logger } = this.deps
      run.done = runGaia(
        { store, workspaces, workspaceStorage, runs, logger },
        {
          paths,
          dataset,
          tasks,
          concurrency: input.concurrency,
          model,
          ...(input.modelId === undefined ? {} : { modelId: input.modelId }),
          ...(input.maxTurns === undefined ? {} : { maxTurns: input.maxTurns }),
          retryErrors: input.retryErrors === true,
          signal: run.controller.signal,
        },
      )
        .then(
          (report) => {
            this.endedHere.set(paths.runName, { planned: run.planned, stopped: report.stopped, error: null })
            logger.info({ run: paths.runName, stopped: report.stopped }, 'GAIA run ended')
          },
          (error: unknown) => {
            const failure = isBerthError(error)
              ? { code: error.code, message: error.message }
              : { code: 'INTERNAL_ERROR', message: error instanceof Error ? error.message : String(error) }
            this.endedHere.set(paths.runName, { planned: run.planned, stopped: true, error: failure })
            logger.error({ err: error, run: paths.runName }, 'GAIA run failed')
          },
        )
        .finally(() => {
          lock.release()
          this.active.delete(paths.runName)
        })
      return { runName: paths.runName, planned: tasks.length, done: run.done }
    } finally {
      this.starting.delete(paths.runName)
    }
  }

  /**
   * Stop a run this server runs: no new task starts, running ones are
   * cancelled and recorded as interrupted (a later start resumes). A run of
   * another process is refused with EVAL_RUN_LOCKED; a run that is not
   * running is left as it is.
   */
  async stop(runName: string): Promise<{ wasRunning: boolean; detail: EvalRunDetail }> {
    const paths = evalRunPaths(this.deps.root, runName)
    const run = this.active.get(paths.runName)
    if (run === undefined) {
      if (runLockHeld(paths.lock)) {
        throw new BerthError(
          'EVAL_RUN_LOCKED',
          `Eval run ${runName} is run by another berth process (berth eval gaia); stop it there (Ctrl-C).`,
          { details: { runName } },
        )
      }
      return { wasRunning: false, detail: await this.get(runName) }
    }
    run.controller.abort()
    await run.done
    return { wasRunning: true, detail: await this.get(runName) }
  }

  /** Every run under `<root>/eval/`, whoever made it; running ones first, then the newest. */
  async list(): Promise<EvalRunInfo[]> {
    const names = new Set(this.active.keys())
    const entries = await readdir(path.join(this.deps.root, 'eval'), { withFileTypes: true }).catch(() => [])
    for (const entry of entries) {
      if (entry.isDirectory() && (await this.isRunDir(entry.name))) names.add(entry.name)
    }
    const runs = await Promise.all([...names].map(async (name) => (await this.read(name)).run))
    const rank = (run: EvalRunInfo): number => (run.status === 'running' ? 0 : 1)
    return runs.sort(
      (a, b) =>
        rank(a) - rank(b) ||
        (b.updated_at ?? b.created_at ?? '').localeCompare(a.updated_at ?? a.created_at ?? '') ||
        a.run_name.localeCompare(b.run_name),
    )
  }

  /** One run with its tasks; EVAL_RUN_NOT_FOUND when there is no such run. */
  async get(runName: string): Promise<EvalRunDetail> {
    evalRunPaths(this.deps.root, runName)
    if (!this.active.has(runName) && !(await this.isRunDir(runName))) {
      throw new BerthError('EVAL_RUN_NOT_FOUND', `No eval run ${runName}.`, { details: { runName } })
    }
    return this.read(runName)
  }

  /** The run's files as they are now (results, summary); for `POST /api/gaia/run` once it ended. */
  async state(runName: string): Promise<{ paths: EvalRunPaths; state: RunState; summary: RunSummary }> {
    const paths = evalRunPaths(this.deps.root, runName)
    const state = await loadRunState(paths)
    return { paths, state, summary: summarizeRun(runName, state) }
  }

  /** Why the last run started here under this name ended early, if it did. */
  failureOf(runName: string): { code: string; message: string } | null {
    return this.endedHere.get(runName)?.error ?? null
  }

  isRunningHere(runName: string): boolean {
    return this.active.has(runName)
  }

  /** Server shutdown: stop every run (tasks recorded as interrupted, so a later start resumes) and wait. */
  async close(): Promise<void> {
    this.closing = true
    const runs = [...this.active.values()]
    for (const run of runs) run.controller.abort()
    await Promise.all(runs.map((run) => run.done))
  }

  private async read(runName: string): Promise<EvalRunDetail> {
    const { paths, state, summary } = await this.state(runName)
    const here = this.active.get(runName)
    const runner = here !== undefined ? 'server' : runLockHeld(paths.lock) ? 'other' : null
    const ended = this.endedHere.get(runName)
    const status: EvalRunStatus =
      runner !== null ? 'running' : ended?.stopped === true || summary.interrupted > 0 ? 'stopped' : 'finished'
    return {
      run: {
        run_name: runName,
        status,
        runner,
        planned: here?.planned ?? ended?.planned ?? null,
        created_at: state.manifest?.created_at ?? null,
        updated_at: lastActivity(state),
        error: runner === null ? (ended?.error ?? null) : null,
        summary,
      },
      tasks: taskRows(state, runner !== null),
    }
  }

  /** A folder is a run when the runner wrote any of its files there (the hub download folder is not). */
  private async isRunDir(name: string): Promise<boolean> {
    let paths: EvalRunPaths
    try {
      paths = evalRunPaths(this.deps.root, name)
    } catch {
      return false
    }
    for (const file of [paths.manifest, paths.results, paths.attempts]) {
      if ((await stat(file).catch(() => null))?.isFile()) return true
    }
    return false
  }

  /**
   * The split from the dataset folder; when it is missing and HF_TOKEN is
   * set, downloaded there first (once, however many starts wait for it).
   */
  private async loadDataset(split: GaiaSplit): Promise<GaiaDataset> {
    const dir = this.datasetDir()
    try {
      return await loadGaiaDataset(dir, split)
    } catch (error) {
      if (!isBerthError(error, 'EVAL_DATASET_NOT_FOUND')) throw error
      if (this.deps.config.hfToken === undefined) throw missingDataset(dir, split, error)
    }
    let download = this.downloads.get(split)
    if (download === undefined) {
      download = fetchGaiaFromHub(this.deps.config, this.deps.root, split, { target: dir })
        .then(({ snapshot }) => {
          this.deps.logger.info(
            { dir, split, sha: snapshot.sha, files: snapshot.files.length },
            'GAIA dataset downloaded',
          )
        })
        .finally(() => this.downloads.delete(split))
      this.downloads.set(split, download)
    }
    await download
    return loadGaiaDataset(dir, split)
  }
}

function lockedHere(runName: string): BerthError {
  return new BerthError('EVAL_RUN_LOCKED', `Eval run ${runName} is already running on this server.`, {
    details: { runName },
  })
}

function missingDataset(dir: string, split: GaiaSplit, cause: BerthError): BerthError {
  return new BerthError(
    'EVAL_DATASET_NOT_FOUND',
    `${cause.message} To run GAIA from the server, point BERTH_GAIA_DATA at a folder with ` +
      `2023/${split}/metadata.jsonl, set HF_TOKEN so the server downloads it, or fetch it once with ` +
      `\`berth eval gaia --from-hub --data ${dir} --split ${split} --run-name <name> --end 1\`` +
      ' (downloads, then runs one task).',
    { cause, details: { dir, split, setting: 'BERTH_GAIA_DATA' } },
  )
}

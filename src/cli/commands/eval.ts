import { mkdir, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { createRunManager } from '../../agent/create-run-manager.js'
import { BerthError } from '../../core/errors.js'
import { createEvalProgress, type EvalProgress } from '../../eval/eval-progress.js'
import { type EvalRunPaths, evalRunPaths, loadRunState, runLabel } from '../../eval/eval-run-files.js'
import { formatSummary, summarizeRun } from '../../eval/eval-summary.js'
import { type GaiaDataset, type GaiaSplit, type GaiaTask, loadGaiaDataset } from '../../eval/gaia-dataset.js'
import { EVAL_DEVICE_ID, runGaia } from '../../eval/gaia-runner.js'
import { ensureManifest, evalModel, fetchGaiaFromHub, selectTasks } from '../../eval/gaia-setup.js'
import { acquireRunLock } from '../../eval/run-lock.js'
import { openRuntime, type Runtime } from '../../runtime/runtime.js'
import { prepareDataRoot } from '../../runtime/storage-report.js'
import { configFor } from '../options.js'
import { action } from '../run-command.js'

interface GaiaOptions {
  data?: string
  runName: string
  split: GaiaSplit
  concurrency: number
  start?: number
  end?: number
  taskId?: string[]
  model?: string
  maxTurns?: number
  fromHub?: boolean
  retryErrors?: boolean
}

const EXIT_SIGNAL = { SIGINT: 130, SIGTERM: 143 } as const

export function registerEval(program: Command): void {
  const evalCommand = program.command('eval').description('Benchmark the agent; every task is a session you can replay')
  evalCommand
    .command('gaia')
    .description('Run GAIA tasks, score them, and resume where a run stopped (same --run-name)')
    .option('--data <dir>', 'the GAIA dataset: a folder with 2023/<split>/metadata.jsonl, or metadata.jsonl itself')
    .requiredOption(
      '--run-name <name>',
      'name of the run: results in <root>/eval/<name>/, sessions labelled gaia:<name>',
    )
    .addOption(new Option('--split <split>', 'dataset split').choices(['validation', 'test']).default('validation'))
    .option('--concurrency <n>', 'tasks run at once', positiveInt, 2)
    .option('--start <i>', 'first task (0-based, dataset order)', nonNegativeInt)
    .option('--end <j>', 'stop before this task (exclusive)', nonNegativeInt)
    .option('--task-id <ids...>', 'run exactly these tasks')
    .option('--model <id>', 'model to use (default: BERTH_MODEL); provider:model pins the provider')
    .option('--max-turns <n>', 'most model calls per task (default: BERTH_MAX_TURNS)', positiveInt)
    .option('--from-hub', 'download the split from the Hugging Face hub first (HF_TOKEN; into --data if given)')
    .option('--retry-errors', 'also run again the tasks whose last attempt failed')
    .action(action(async (options: GaiaOptions, command: Command) => runGaiaCommand(options, command)))

  evalCommand
    .command('report')
    .description("Print a run's accuracy overall and per level, errors and interruptions")
    .argument('<run-name>', 'the --run-name of the run')
    .option('--json', 'print the summary as JSON')
    .action(
      action(async (runName: string, options: { json?: boolean }, command: Command) => {
        const config = configFor(command)
        const storage = await prepareDataRoot({ dataDir: config.dataDir, env: config.env, readOnly: true })
        const paths = evalRunPaths(storage.paths.root, runName)
        if (!(await stat(paths.dir).catch(() => null))?.isDirectory()) {
          const runs = await readdir(path.join(storage.paths.root, 'eval')).catch(() => [] as string[])
          const known = runs.filter((name) => name !== 'hub')
          throw new BerthError(
            'EVAL_RUN_NOT_FOUND',
            `No eval run ${runName} in ${storage.paths.root}.` +
              (known.length > 0 ? ` Runs there: ${known.join(', ')}.` : ''),
          )
        }
        const summary = summarizeRun(runName, await loadRunState(paths))
        process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary))
        return 0
      }),
    )
}

async function runGaiaCommand(options: GaiaOptions, command: Command): Promise<number> {
  if (options.data === undefined && options.fromHub !== true) {
    throw new BerthError('INVALID_REQUEST', 'Say where the dataset is with --data DIR, or fetch it with --from-hub.')
  }
  const config = configFor(command)
  const model = evalModel(config, options.model)
  const runtime = await openRuntime(config, { role: 'writer', command: 'berth eval gaia', terminalLogs: false })
  const root = runtime.storage.paths.root
  const paths = evalRunPaths(root, options.runName)
  const progress = createEvalProgress(process.stderr)
  try {
    let dataDir = options.data
    if (options.fromHub === true) {
      const fetched = await fetchGaiaFromHub(config, root, options.split, {
        target: options.data,
        onFile: (file, index, total) => progress.note(`hub: ${file} (${index + 1}/${total})`),
      })
      progress.note(`GAIA ${options.split} at commit ${fetched.snapshot.sha} in ${fetched.dir}`)
      dataDir = fetched.dir
    }
    const dataset = await loadGaiaDataset(dataDir as string, options.split)
    const tasks = await selectTasks(dataset, { start: options.start, end: options.end, taskIds: options.taskId })
    await mkdir(paths.dir, { recursive: true })
    const lock = acquireRunLock(paths.lock, options.runName)
    try {
      const warning = await ensureManifest(paths, { split: options.split, dataset: dataset.dir, model })
      if (warning !== null) progress.note(`berth: ${warning}`)
      return await execute(runtime, paths, { dataset, tasks, model, options, progress })
    } finally {
      lock.release()
    }
  } finally {
    progress.stop()
    await runtime.close()
  }
}

async function execute(
  runtime: Runtime,
  paths: EvalRunPaths,
  input: { dataset: GaiaDataset; tasks: GaiaTask[]; model: string; options: GaiaOptions; progress: EvalProgress },
): Promise<number> {
  const { options, progress } = input
  // Each eval session runs once: release its shell as soon as its run ends.
  const runs = createRunManager(runtime, { idleDisposeMs: 0 })
  const controller = new AbortController()
  let stoppedBy: keyof typeof EXIT_SIGNAL | null = null
  const onSignal = (signal: keyof typeof EXIT_SIGNAL) => () => {
    if (stoppedBy !== null) {
      // A second Ctrl-C: leave now. Every line written so far is whole; the next run resumes.
      process.exit(EXIT_SIGNAL[signal])
    }
    stoppedBy = signal
    progress.note('berth: stopping: running tasks are cancelled and recorded as interrupted (again to quit at once)')
    controller.abort()
  }
  const handlers = { SIGINT: onSignal('SIGINT'), SIGTERM: onSignal('SIGTERM') }
  process.on('SIGINT', handlers.SIGINT)
  process.on('SIGTERM', handlers.SIGTERM)
  try {
    const report = await runGaia(
      {
        store: runtime.store,
        workspaces: runtime.workspaces,
        workspaceStorage: runtime.workspaceStorage,
        runs,
        logger: runtime.logger,
      },
      {
        paths,
        dataset: input.dataset,
        tasks: input.tasks,
        concurrency: options.concurrency,
        model: input.model,
        ...(options.model === undefined ? {} : { modelId: options.model }),
        ...(options.maxTurns === undefined ? {} : { maxTurns: options.maxTurns }),
        retryErrors: options.retryErrors === true,
        signal: controller.signal,
        onPlan: (plan) => {
          if (plan.recovered > 0) progress.note(`${plan.recovered} task(s) cut off by an earlier runner will run again`)
          if (plan.skipped > 0) progress.note(`${plan.skipped} task(s) already finished in run ${paths.runName}`)
          progress.start(plan.todo)
        },
        onTaskStart: (task, attempt) => progress.taskStarted(task, attempt),
        onTaskEnd: (result) => progress.taskEnded(result),
      },
    )
    progress.stop()
    const summary = summarizeRun(paths.runName, await loadRunState(paths))
    process.stdout.write(formatSummary(summary))
    process.stderr.write(
      `Results: ${paths.results}\nSessions: GET /api/sessions/${EVAL_DEVICE_ID}?label=${runLabel(paths.runName)}\n`,
    )
    if (report.skippedLines.length > 0) {
      process.stderr.write(`berth: skipped unreadable lines ${report.skippedLines.join(', ')}\n`)
    }
    return stoppedBy === null ? 0 : EXIT_SIGNAL[stoppedBy]
  } finally {
    process.removeListener('SIGINT', handlers.SIGINT)
    process.removeListener('SIGTERM', handlers.SIGTERM)
    await runs.shutdown()
  }
}

function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1')
  return n
}

function nonNegativeInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number of at least 0')
  return n
}

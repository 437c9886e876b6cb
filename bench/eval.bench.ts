/**
 * bench:eval — what the GAIA runner adds to each task beyond the agent's own
 * work. The same scripted OpenAI-compatible model (a local HTTP server, one
 * short answer per task) serves two ways of running N one-turn tasks in this
 * process, on a real data root (SQLite store, workspaces):
 *
 *   direct: `runs.start` + `runs.wait` on a new session, as `berth run` does;
 *   runner: `runGaia` with concurrency 1: attempt line + fsync, session with
 *           label, attachment copy (every 5th task), GAIA prompt, the run,
 *           answer extraction, scoring, result line + fsync.
 *
 *   npm run bench:eval            (BENCH_TASKS to resize, default 40)
 *
 * Reports the median and p90 time per task of each, and their difference:
 * the runner's overhead per task (target: under 50 ms).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRunManager } from '../src/agent/create-run-manager.js'
import { loadConfig } from '../src/config/config.js'
import { newId } from '../src/core/ids.js'
import { evalRunPaths } from '../src/eval/eval-run-files.js'
import { loadGaiaDataset } from '../src/eval/gaia-dataset.js'
import { gaiaPrompt } from '../src/eval/gaia-prompt.js'
import { EVAL_DEVICE_ID, runGaia } from '../src/eval/gaia-runner.js'
import { openRuntime } from '../src/runtime/runtime.js'
import { startScriptedOpenAi } from '../test/helpers/scripted-llm/scripted-openai.js'
import { fmt, median, percentile } from './stats.js'

const TASKS = Number(process.env.BENCH_TASKS ?? 40)
const ROUNDS = 2

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-bench-eval-'))
  const llm = await startScriptedOpenAi()
  llm.setFallback({ text: 'Reasoning done.\nFINAL ANSWER: 42', usage: { input: 500, output: 10 } })
  const config = loadConfig({
    env: {
      BERTH_DATA_DIR: join(dir, 'root'),
      CHUTES_API_KEY: 'bench',
      CHUTES_BASE_URL: llm.url,
      BERTH_LOG_LEVEL: 'warn',
    },
    envFile: false,
  })
  const runtime = await openRuntime(config, { role: 'writer', command: 'bench:eval', terminalLogs: false })
  const runs = createRunManager(runtime, { idleDisposeMs: 0 })
  console.log(`bench:eval  (${TASKS} one-turn tasks per round, scripted model at ${llm.url}, data in ${dir})\n`)
  try {
    const data = await writeBenchDataset(join(dir, 'gaia'), TASKS * (ROUNDS + 1))
    const dataset = await loadGaiaDataset(data, 'validation')
    const direct: number[] = []
    const runner: number[] = []
    const runnerWall: number[] = []

    const runDirect = async (count: number, into: number[] | null): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const sessionId = newId()
        const started = performance.now()
        await runs.start({ sessionId, text: gaiaPrompt(`Direct task ${i}?`, null), deviceId: EVAL_DEVICE_ID })
        const outcome = await runs.wait(sessionId)
        if (outcome?.status !== 'completed') throw new Error(`direct run ended ${outcome?.status}`)
        into?.push(performance.now() - started)
      }
    }
    const runRunner = async (round: number, count: number, into: number[] | null): Promise<void> => {
      const tasks = dataset.tasks.slice(round * TASKS, round * TASKS + count)
      const starts = new Map<string, number>()
      const started = performance.now()
      const report = await runGaia(
        { store: runtime.store, workspaces: runtime.workspaces, runs, logger: runtime.logger },
        {
          paths: await runPaths(runtime.storage.paths.root, `bench-${round}`),
          dataset,
          tasks,
          concurrency: 1,
          model: 'chutes:bench',
          onTaskStart: (task) => starts.set(task.taskId, performance.now()),
          onTaskEnd: (result) => into?.push(performance.now() - (starts.get(result.task_id) ?? 0)),
        },
      )
      if (into !== null) runnerWall.push((performance.now() - started) / count)
      if (report.results.some((result) => result.correct !== true)) throw new Error('a runner task was not scored')
    }

    // Warm up both paths (JIT, SQLite caches, HTTP keep-alive), then alternate them.
    await runDirect(5, null)
    await runRunner(ROUNDS, 5, null)
    for (let round = 0; round < ROUNDS; round++) {
      await runDirect(TASKS, direct)
      await runRunner(round, TASKS, runner)
    }

    const overhead = median(runner) - median(direct)
    console.log(
      `direct run (runs.start + wait):   median ${fmt(median(direct))} ms, p90 ${fmt(percentile(direct, 90))} ms`,
    )
    console.log(
      `through the GAIA runner:          median ${fmt(median(runner))} ms, p90 ${fmt(percentile(runner, 90))} ms`,
    )
    console.log(
      `runner wall time per task:        ${runnerWall.map((ms) => `${fmt(ms)} ms`).join(', ')} (whole invocation / N)`,
    )
    console.log(
      `\nrunner overhead per task (median): ${fmt(overhead)} ms  ${overhead < 50 ? 'OK' : 'OVER'} (target < 50 ms)`,
    )
  } finally {
    await runs.shutdown()
    await runtime.close()
    await llm.close()
    await rm(dir, { recursive: true, force: true })
  }
}

async function writeBenchDataset(dir: string, count: number): Promise<string> {
  const split = join(dir, '2023', 'validation')
  await mkdir(split, { recursive: true })
  const rows: string[] = []
  for (let i = 0; i < count; i++) {
    const withFile = i % 5 === 0
    if (withFile) await writeFile(join(split, `file-${i}.csv`), 'a,b\n1,2\n'.repeat(200))
    rows.push(
      JSON.stringify({
        task_id: `bench-${i}`,
        Question: `Benchmark task ${i}: what is six times seven?`,
        Level: (i % 3) + 1,
        'Final answer': '42',
        file_name: withFile ? `file-${i}.csv` : '',
      }),
    )
  }
  await writeFile(join(split, 'metadata.jsonl'), `${rows.join('\n')}\n`)
  return dir
}

async function runPaths(root: string, name: string) {
  const paths = evalRunPaths(root, name)
  await mkdir(paths.dir, { recursive: true })
  return paths
}

await main()

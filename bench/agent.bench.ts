/**
 * bench:agent — the agent loop without a model: an in-process provider that
 * answers at once (a bit of text and one tool call per step) drives real runs
 * through the run manager, the real SQLite store (WAL, synchronous=FULL) and
 * a trivial tool.
 *
 *   npm run bench:agent            (BENCH_STEPS / BENCH_CONCURRENT to resize)
 *
 * Reports: loop overhead per step (median, p99), with and without the time
 * spent in durable appends; stored events per second of one run; memory of
 * concurrent runs; the system prompt's size in tokens per toolset.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import v8 from 'node:v8'
import vm from 'node:vm'
import { z } from 'zod'
import { estimateTokens } from '../src/agent/context/token-estimator.js'
import { BROWSER_TOOLS } from '../src/agent/prompt/sections.js'
import { AgentRunManager } from '../src/agent/run-manager.js'
import { buildSystemPrompt } from '../src/agent/system-prompt.js'
import type { LlmProvider, LlmRequest, LlmStreamPart } from '../src/llm/types.js'
import { createLogger } from '../src/logging/logger.js'
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js'
import type { AnyTool } from '../src/tools/run-tool.js'
import { defineTool } from '../src/tools/tool.js'
import { createToolset, GAIA_TOOL_NAMES, toolSpecs } from '../src/tools/toolset.js'
import { Workspaces } from '../src/workspace/workspaces.js'
import { fmt, median, percentile } from './stats.js'

const STEPS = Number(process.env.BENCH_STEPS ?? 500)
const CONCURRENT = Number(process.env.BENCH_CONCURRENT ?? 20)
const CONCURRENT_STEPS = 100

/** Answers instantly: `steps` steps of text plus one tool call, then a final answer. Records when each call starts. */
class InstantProvider implements LlmProvider {
  readonly provider = 'bench'
  readonly model = 'instant'
  readonly callTimes: number[] = []
  private calls = 0

  constructor(private readonly steps: number) {}

  async *stream(_request: LlmRequest): AsyncGenerator<LlmStreamPart> {
    this.callTimes.push(performance.now())
    const n = this.calls++
    const usage = { inputTokens: 100, outputTokens: 10 }
    if (n >= this.steps) {
      yield { type: 'text-delta', text: 'All done.' }
      yield { type: 'finish', finishReason: 'stop', usage, model: this.model, provider: this.provider }
      return
    }
    yield { type: 'text-delta', text: `Step ${n}: ` }
    yield { type: 'text-delta', text: 'checking the workspace.' }
    yield { type: 'tool-call', call: { id: `call_${n}`, name: 'noop', input: { note: `step ${n}` } } }
    yield { type: 'finish', finishReason: 'tool-calls', usage, model: this.model, provider: this.provider }
  }
}

const noop = defineTool({
  name: 'noop',
  description: 'Does nothing.',
  parameters: z.object({ note: z.string() }),
  async execute(input) {
    return { output: `ok: ${input.note}` }
  },
})
const TOOLS: readonly AnyTool[] = [noop]

const dir = await mkdtemp(join(tmpdir(), 'berth-bench-agent-'))
const logger = createLogger({ level: 'silent', terminal: false })

try {
  console.log(`bench:agent  (in-process model, real SQLite store in ${dir})\n`)
  const store = await SqliteStore.open({ file: join(dir, 'events.db') })
  const workspaces = new Workspaces({ root: join(dir, 'workspace'), quotaBytes: null })
  // Time spent inside durable appends (commit + fsync), to tell the loop's own cost from the disk's.
  const appendMany = store.appendMany.bind(store)
  let appendMs = 0
  const appendSpans: [number, number][] = []
  store.appendMany = async (sessionId, events) => {
    const start = performance.now()
    try {
      return await appendMany(sessionId, events)
    } finally {
      const end = performance.now()
      appendMs += end - start
      appendSpans.push([start, end])
    }
  }
  const manager = (provider: LlmProvider) =>
    new AgentRunManager({
      store,
      workspaces,
      logger,
      config: { maxTurns: 10_000, maxRunTokens: null, publicUrl: undefined, port: 8000 },
      createProvider: () => provider,
      createTools: () => TOOLS,
    })

  // 1. One long run: per-step overhead and events per second.
  {
    const provider = new InstantProvider(STEPS)
    const runs = manager(provider)
    const sessionId = randomUUID()
    const before = (await store.counts()).events
    const start = performance.now()
    await runs.start({ sessionId, text: 'benchmark' })
    const outcome = await runs.wait(sessionId)
    const elapsed = performance.now() - start
    const events = (await store.counts()).events - before
    if (outcome?.status !== 'completed') throw new Error(`run ended ${outcome?.status}: ${outcome?.error?.message}`)

    const steps: number[] = []
    const ownSteps: number[] = []
    const times = provider.callTimes
    for (let i = 2; i < times.length; i++) {
      const from = times[i - 1] as number
      const to = times[i] as number
      const inAppends = appendSpans.filter(([s, e]) => s >= from && e <= to).reduce((sum, [s, e]) => sum + (e - s), 0)
      steps.push(to - from)
      ownSteps.push(to - from - inAppends)
    }
    console.log(`1. one run of ${STEPS} steps (text + 1 tool call each), ${events} events stored`)
    console.log(
      `   per step, total:             median ${fmt(median(steps))} ms   p99 ${fmt(percentile(steps, 99))} ms`,
    )
    console.log(
      `   per step, without appends:   median ${fmt(median(ownSteps), 3)} ms   p99 ${fmt(percentile(ownSteps, 99), 3)} ms   (target < 2 ms)`,
    )
    console.log(
      `   events per second:           ${fmt(events / (elapsed / 1000), 0)}   (run took ${fmt(elapsed, 0)} ms)`,
    )
    console.log(`   of which durable appends:    ${fmt(appendMs, 0)} ms\n`)
    await runs.shutdown()
  }

  // 2. Memory of concurrent runs.
  {
    // A collectable baseline without requiring `node --expose-gc`.
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as () => void
    gc()
    const baseline = process.memoryUsage()
    let peakRss = baseline.rss
    let peakHeap = baseline.heapUsed
    const sampler = setInterval(() => {
      const m = process.memoryUsage()
      peakRss = Math.max(peakRss, m.rss)
      peakHeap = Math.max(peakHeap, m.heapUsed)
    }, 5)
    const sessions = Array.from({ length: CONCURRENT }, () => randomUUID())
    const providers = new Map<string, InstantProvider>(
      sessions.map((id) => [id, new InstantProvider(CONCURRENT_STEPS)]),
    )
    // One manager for all sessions, as in the server; the model id picks each session's provider.
    const runs = new AgentRunManager({
      store,
      workspaces,
      logger,
      config: { maxTurns: 10_000, maxRunTokens: null, publicUrl: undefined, port: 8000 },
      createProvider: (choice) => providers.get(choice.modelId ?? '') as LlmProvider,
      createTools: () => TOOLS,
    })
    const start = performance.now()
    await Promise.all(sessions.map((id) => runs.start({ sessionId: id, text: 'benchmark', modelId: id })))
    const outcomes = await Promise.all(sessions.map((id) => runs.wait(id)))
    const elapsed = performance.now() - start
    clearInterval(sampler)
    gc()
    const retained = process.memoryUsage().heapUsed - baseline.heapUsed
    const failed = outcomes.filter((o) => o?.status !== 'completed').length
    const mb = (n: number) => fmt(n / 1024 / 1024, 1)
    console.log(
      `2. ${CONCURRENT} concurrent runs of ${CONCURRENT_STEPS} steps each (${failed} failed), ${fmt(elapsed, 0)} ms`,
    )
    console.log(`   RSS:  baseline ${mb(baseline.rss)} MB, peak ${mb(peakRss)} MB (+${mb(peakRss - baseline.rss)} MB)`)
    console.log(
      `   heap: baseline ${mb(baseline.heapUsed)} MB, peak ${mb(peakHeap)} MB (+${mb(peakHeap - baseline.heapUsed)} MB), ` +
        `after the runs and a GC +${mb(retained)} MB`,
    )
    await runs.shutdown()
  }

  // 3. The system prompt's size per toolset (src/agent/system-prompt.ts), estimated as the context manager counts it.
  {
    const keyed = createToolset({ bashTimeout: 10, tavilyApiKey: 'k', jinaApiKey: 'k', serperApiKey: 'k' })
    const names = [...new Set([...keyed.map((tool) => tool.name), ...BROWSER_TOOLS])]
    const sets: [string, readonly string[]][] = [
      ['minimal (no tools)', []],
      ['default, no keys', createToolset({ bashTimeout: 10 }).map((tool) => tool.name)],
      ['GAIA', GAIA_TOOL_NAMES],
      ['every tool', names],
    ]
    console.log('\n3. system prompt size per toolset (estimated tokens: 4 characters each)')
    for (const [label, toolNames] of sets) {
      const text = buildSystemPrompt({
        workspaceDir: '/data/workspace/x',
        publicUrl: 'https://berth.example',
        toolNames,
      })
      const target = label === 'every tool' ? '   (target < 4000)' : ''
      console.log(
        `   ${`${label}:`.padEnd(22)} ${String(toolNames.length).padStart(2)} tools  ${String(text.length).padStart(5)} chars  ${String(estimateTokens(text)).padStart(4)} tokens${target}`,
      )
    }
    const schemas = JSON.stringify(toolSpecs(keyed))
    console.log(`   tool schemas sent beside it (${keyed.length} tools, no browser): ${estimateTokens(schemas)} tokens`)
  }
  await store.close()
} finally {
  await rm(dir, { recursive: true, force: true })
}

/**
 * bench:tools — the agent's tools on real inputs. One section per tool
 * family; each prints its own lines, and sections can be added to SECTIONS.
 *
 * documents: text extraction of a generated 200-page PDF and a
 * 100,000-cell XLSX through `get_text_from_local_file` (a real workspace,
 * the one door, the output cap and the full text saved to agent_memory/),
 * on the calling thread and on a parse worker thread. Medians of a few
 * rounds, MB/s of the input file, and the longest event-loop stall seen
 * meanwhile (what other sessions on the server would feel). Worker times
 * include starting the thread; under tsx (npm run) that also loads tsx's
 * loader into the thread, which the built server does not.
 *
 * browser: browser_navigation to a local page (navigate, settle, JPEG
 * screenshot, page text, screenshot saved through the one door) p50/p99
 * over BENCH_BROWSER_STEPS steps (target p50 < 400 ms), and the memory of
 * chromium (the sum over its processes, from /proc: RSS, and PSS, which
 * counts shared pages once) with one session's context and with 10
 * sessions at once (target < 1.5 GiB in all). Needs /usr/bin/chromium
 * (BERTH_BROWSER_PATH).
 *
 * editor: str_replace_editor on a file just under its 16 MiB edit limit,
 * with LF and with CRLF line endings: view (whole, then capped like every
 * tool output), view_range, str_replace and insert in the middle, and undo.
 * Medians of wall time (and of CPU time, steadier on a busy machine), the
 * longest event-loop stall, and what each call allocated (heap and buffers,
 * garbage included: an upper bound of its peak).
 *
 *   npm run bench:tools        (BENCH_ROUNDS=3, BENCH_SECTIONS=documents,browser to pick sections)
 */
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { pino } from 'pino'
import { BrowserPool } from '../src/tools/browser/browser-pool.js'
import { createBrowserTools } from '../src/tools/browser/browser-tools.js'
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from '../src/tools/documents/limits.js'
import { readDocument } from '../src/tools/documents/read-document.js'
import { type AnyTool, runTool } from '../src/tools/run-tool.js'
import { createSessionResources, type DisposableSessionResources } from '../src/tools/session-resources.js'
import { createStrReplaceEditorTool, MAX_EDIT_BYTES } from '../src/tools/str-replace-editor.js'
import type { ToolContext } from '../src/tools/tool.js'
import { Workspaces } from '../src/workspace/workspaces.js'
import { startFakeSite } from '../test/tools/browser-fixtures.js'
import { makePdf, makeXlsx } from '../test/tools/documents-fixtures.js'
import { fmt, median, percentile } from './stats.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)

interface Section {
  name: string
  run(): Promise<void>
}

const SECTIONS: Section[] = [
  { name: 'documents', run: documentsSection },
  { name: 'browser', run: browserSection },
  { name: 'editor', run: editorSection },
]

const picked = process.env.BENCH_SECTIONS?.split(',').map((s) => s.trim())
console.log(`bench:tools  (${ROUNDS} rounds, medians)\n`)
for (const section of SECTIONS) {
  if (picked !== undefined && !picked.includes(section.name)) continue
  console.log(`== ${section.name}`)
  await section.run()
  console.log('')
}

async function documentsSection(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-bench-tools-'))
  const context = await benchContext(root)
  try {
    const pages = Array.from({ length: 200 }, (_, p) =>
      Array.from(
        { length: 40 },
        (_, l) => `Page ${p + 1} line ${l + 1}: the quick brown fox jumps over the lazy dog 0123456789`,
      ),
    )
    await writeFile(path.join(context.workspaceDir, 'bench.pdf'), makePdf(pages))
    const rows: (string | number)[][] = [Array.from({ length: 10 }, (_, c) => `Column ${c + 1}`)]
    for (let r = 1; r < 10_000; r++)
      rows.push(Array.from({ length: 10 }, (_, c) => (c % 2 === 0 ? r * 10 + c : `cell ${r}-${c}`)))
    await writeFile(path.join(context.workspaceDir, 'bench.xlsx'), await makeXlsx({ Data: rows }))

    const inline: DocumentLimits = { ...DEFAULT_DOCUMENT_LIMITS, workerMinBytes: Number.POSITIVE_INFINITY }
    const worker: DocumentLimits = { ...DEFAULT_DOCUMENT_LIMITS, workerMinBytes: 0 }
    for (const [label, file] of [
      ['200-page PDF', 'bench.pdf'],
      ['100,000-cell XLSX', 'bench.xlsx'],
    ] as const) {
      const bytes = (await stat(path.join(context.workspaceDir, file))).size
      // One untimed run loads the parser's modules, as the first call on a server does once.
      await readDocument(context, file, { limits: inline })
      for (const [mode, limits] of [
        ['calling thread', inline],
        ['worker thread ', worker],
      ] as const) {
        const times: number[] = []
        const stalls: number[] = []
        let chars = 0
        for (let round = 0; round < ROUNDS; round++) {
          const loop = monitorEventLoopDelay({ resolution: 10 })
          loop.enable()
          const started = performance.now()
          chars = (await readDocument(context, file, { limits })).length
          times.push(performance.now() - started)
          // Let the histogram's timer run once more: a stall that lasted to the end is only recorded then.
          await new Promise((resolve) => setTimeout(resolve, 25))
          loop.disable()
          stalls.push(loop.max / 1e6)
        }
        const ms = median(times)
        console.log(
          `${label.padEnd(18)} ${(bytes / 1024 / 1024).toFixed(2)} MB  ${mode}  ${fmt(ms, 0).padStart(6)} ms  ` +
            `${fmt(bytes / 1024 / 1024 / (ms / 1000)).padStart(6)} MB/s  longest event-loop stall ${fmt(median(stalls), 0)} ms  (${chars} chars returned)`,
        )
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

async function browserSection(): Promise<void> {
  const executablePath = process.env.BERTH_BROWSER_PATH ?? '/usr/bin/chromium'
  if (!existsSync(executablePath)) {
    console.log(`skipped: no chromium at ${executablePath} (apt-get install -y chromium)`)
    return
  }
  const steps = Number(process.env.BENCH_BROWSER_STEPS ?? 40)
  const root = await mkdtemp(path.join(tmpdir(), 'berth-bench-browser-'))
  const site = await startFakeSite()
  const pool = new BrowserPool({ executablePath, maxContexts: 10 })
  const tools = createBrowserTools({
    pool,
    serverPort: 1,
    allowPrivate: true,
    idleMs: 600_000,
    navigationTimeoutMs: 30_000,
  })
  const navigation = tools.find((tool) => tool.name === 'browser_navigation') as AnyTool
  const sessions: ToolContext[] = []
  const navigate = async (context: ToolContext, page: string): Promise<number> => {
    const started = performance.now()
    const result = await runTool(navigation, { url: `${site.base}${page}?${Math.random()}` }, context)
    if (result.isError || result.images?.length !== 1) throw new Error(`navigation failed: ${result.output}`)
    return performance.now() - started
  }
  try {
    const first = await benchContext(root)
    sessions.push(first)
    await navigate(first, '/second') // starts chromium and the context, untimed
    const times: number[] = []
    for (let i = 0; i < steps; i++) times.push(await navigate(first, i % 2 === 0 ? '/second' : '/form'))
    console.log(
      `navigate + screenshot + text (local page, ${steps} steps)  p50 ${fmt(percentile(times, 50), 0)} ms  ` +
        `p99 ${fmt(percentile(times, 99), 0)} ms  (target p50 < 400 ms)`,
    )
    const one = await chromiumMemory()
    console.log(`chromium with 1 session:   ${memoryLine(one)}`)
    for (let i = 1; i < 10; i++) sessions.push(await benchContext(root))
    await Promise.all(sessions.map((context, i) => navigate(context, i % 2 === 0 ? '/long' : '/form')))
    const ten = await chromiumMemory()
    console.log(`chromium with 10 sessions: ${memoryLine(ten)}  (target < 1.5 GiB in all)`)
  } finally {
    for (const context of sessions) await (context.resources as DisposableSessionResources).dispose()
    await pool.close()
    await site.close()
    await rm(root, { recursive: true, force: true })
  }
}

async function editorSection(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-bench-editor-'))
  const context = await benchContext(root)
  const editor = createStrReplaceEditorTool()
  // A collector to call between calls, so each call's allocation is measured from a clean heap.
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const allocated = () => {
    const m = process.memoryUsage()
    return m.heapUsed + m.external
  }
  try {
    for (const [label, eol] of [
      ['LF  ', '\n'],
      ['CRLF', '\r\n'],
    ] as const) {
      const line = `${'a quick brown fox jumps over the lazy dog, '.repeat(2)}0123456789`
      const count = Math.floor((MAX_EDIT_BYTES - 4096) / (line.length + eol.length))
      const lines = Array.from({ length: count }, (_, i) => `${i} ${line}`.slice(0, line.length))
      const middle = Math.floor(count / 2)
      lines[middle] = 'the needle line'
      const file = `big-${label.trim().toLowerCase()}.txt`
      await writeFile(path.join(context.workspaceDir, file), lines.join(eol))
      const mb = (await stat(path.join(context.workspaceDir, file))).size / 1024 / 1024
      const undo = { command: 'undo_edit', path: file }
      // Each edit is undone straight away, so every round edits the same file; the undo is timed on its own row.
      const calls: [string, Record<string, unknown>, Record<string, unknown> | null][] = [
        ['view (whole file)', { command: 'view', path: file }, null],
        ['view_range (10 lines)', { command: 'view', path: file, view_range: [middle, middle + 9] }, null],
        [
          'str_replace (middle)',
          { command: 'str_replace', path: file, old_str: 'the needle line', new_str: 'a\nb' },
          undo,
        ],
        ['insert (middle)', { command: 'insert', path: file, insert_line: middle, new_str: 'inserted' }, undo],
      ]
      for (const [name, input, then] of calls) {
        const rows = new Map<string, { times: number[]; cpu: number[]; stalls: number[]; mib: number[] }>()
        const timed = async (row: string, call: Record<string, unknown>): Promise<void> => {
          gc()
          const before = allocated()
          const loop = monitorEventLoopDelay({ resolution: 10 })
          loop.enable()
          const cpuStart = process.cpuUsage()
          const started = performance.now()
          const result = await runTool(editor, call, context)
          const ms = performance.now() - started
          const cpu = process.cpuUsage(cpuStart)
          // Garbage included: what the call allocated, an upper bound of the memory it needed at its peak.
          const mib = (allocated() - before) / 1024 / 1024
          if (result.isError) throw new Error(`${row} failed: ${result.output}`)
          // Let the histogram's timer run once more: a stall that lasted to the end is only recorded then.
          await new Promise((resolve) => setTimeout(resolve, 25))
          loop.disable()
          const entry = rows.get(row) ?? { times: [], cpu: [], stalls: [], mib: [] }
          entry.times.push(ms)
          entry.cpu.push((cpu.user + cpu.system) / 1000)
          entry.stalls.push(loop.max / 1e6)
          entry.mib.push(mib)
          rows.set(row, entry)
        }
        for (let round = 0; round < ROUNDS; round++) {
          await timed(name, input)
          if (then !== null) await timed(`  then undo_edit`, then)
        }
        for (const [row, { times, cpu, stalls, mib }] of rows) {
          console.log(
            `${label} ${fmt(mb)} MB ${count} lines  ${row.padEnd(22)} ${fmt(median(times), 0).padStart(5)} ms ` +
              `(cpu ${fmt(median(cpu), 0).padStart(5)} ms)  longest event-loop stall ${fmt(median(stalls), 0).padStart(5)} ms  ` +
              `allocated ${fmt(median(mib), 0).padStart(4)} MiB`,
          )
        }
      }
    }
  } finally {
    await (context.resources as DisposableSessionResources).dispose()
    await rm(root, { recursive: true, force: true })
  }
}

function memoryLine(memory: { processes: number; rssKb: number; pssKb: number }): string {
  return `${memory.processes} processes, RSS ${fmt(memory.rssKb / 1024, 0)} MiB, PSS ${fmt(memory.pssKb / 1024, 0)} MiB`
}

/** RSS and PSS summed over this process's descendants (chromium and its renderers, GPU and utility processes). */
async function chromiumMemory(): Promise<{ processes: number; rssKb: number; pssKb: number }> {
  const parents = new Map<number, number>()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null)
    // The parent pid is the second field after the parenthesised command name.
    const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (fields?.[1] !== undefined) parents.set(Number(entry), Number(fields[1]))
  }
  const descendants = new Set<number>([process.pid])
  for (let grew = true; grew; ) {
    grew = false
    for (const [pid, parent] of parents) {
      if (descendants.has(parent) && !descendants.has(pid)) {
        descendants.add(pid)
        grew = true
      }
    }
  }
  descendants.delete(process.pid)
  let rssKb = 0
  let pssKb = 0
  for (const pid of descendants) {
    const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '')
    rssKb += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0)
    pssKb += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0)
  }
  return { processes: descendants.size, rssKb, pssKb }
}

/** A real workspace under `root` and a tool context on it (no events, no live output). */
async function benchContext(root: string): Promise<ToolContext> {
  const workspaces = new Workspaces({ root, quotaBytes: null })
  const sessionId = randomUUID()
  return {
    sessionId,
    workspaceDir: await workspaces.create(sessionId),
    workspaces,
    signal: new AbortController().signal,
    emit: async () => undefined,
    emitTransient: () => undefined,
    publicUrl: 'http://127.0.0.1',
    resources: createSessionResources(),
    logger: pino({ level: 'silent' }),
    toolCallId: 'bench',
  }
}

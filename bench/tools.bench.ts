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
 *   npm run bench:tools        (BENCH_ROUNDS=3, BENCH_SECTIONS=documents to pick sections)
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { pino } from 'pino'
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from '../src/tools/documents/limits.js'
import { readDocument } from '../src/tools/documents/read-document.js'
import { createSessionResources } from '../src/tools/session-resources.js'
import type { ToolContext } from '../src/tools/tool.js'
import { Workspaces } from '../src/workspace/workspaces.js'
import { makePdf, makeXlsx } from '../test/tools/documents-fixtures.js'
import { fmt, median } from './stats.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)

interface Section {
  name: string
  run(): Promise<void>
}

const SECTIONS: Section[] = [{ name: 'documents', run: documentsSection }]

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

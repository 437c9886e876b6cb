import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { BerthError, type ErrorCode } from '../../core/errors.js'
import type { ParseJob } from './parse.js'

export type ParseMessage =
  | { ok: true; text: string }
  | { ok: false; error: { code?: ErrorCode; message: string; details?: Record<string, unknown> } }

/** Heap of one parse thread: a hostile file runs out of this, not out of the server's memory. */
const WORKER_HEAP_MB = 2048

/**
 * Parse a document on its own worker thread, so pdf.js or exceljs chewing
 * on a large file never stalls the server's event loop. The thread is
 * terminated when `signal` aborts, after `timeoutMs`, or when it runs out of
 * its heap; each is a clear error.
 *
 * @example
 *   const text = await parseOnWorkerThread(job, { signal, timeoutMs: 120_000 })
 */
export async function parseOnWorkerThread(
  job: ParseJob,
  opts: { signal: AbortSignal; timeoutMs: number },
): Promise<string> {
  await takeThreadSlot(job, opts.signal)
  try {
    return await runWorker(job, opts)
  } finally {
    releaseThreadSlot()
  }
}

/**
 * Parse threads running at once, server-wide; more wait their turn (still
 * cancellable). Each holds a file and its parser's heap, and the machine's
 * cores are shared with the server and the agents' shells.
 */
export const MAX_PARSE_THREADS = 2
let runningThreads = 0
const waitingForThread: (() => void)[] = []

async function takeThreadSlot(job: ParseJob, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw aborted(job)
  if (runningThreads < MAX_PARSE_THREADS) {
    runningThreads++
    return
  }
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      waitingForThread.splice(waitingForThread.indexOf(start), 1)
      reject(aborted(job))
    }
    // The releasing parse hands its slot over directly: runningThreads stays as it is.
    const start = () => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }
    waitingForThread.push(start)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Parse threads running now, and parses waiting for one (for tests and metrics). */
export function parseThreadsInUse(): { running: number; waiting: number } {
  return { running: runningThreads, waiting: waitingForThread.length }
}

function releaseThreadSlot(): void {
  const next = waitingForThread.shift()
  if (next === undefined) runningThreads--
  else next()
}

function runWorker(job: ParseJob, opts: { signal: AbortSignal; timeoutMs: number }): Promise<string> {
  if (opts.signal.aborted) return Promise.reject(aborted(job))
  const worker = startWorker(job)
  return new Promise<string>((resolve, reject) => {
    let settled = false
    const finish = (outcome: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      opts.signal.removeEventListener('abort', onAbort)
      void worker.terminate()
      outcome()
    }
    const onAbort = () => finish(() => reject(aborted(job)))
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new BerthError(
              'DOCUMENT_UNREADABLE',
              `Reading ${job.shownName} took longer than ${Math.round(opts.timeoutMs / 1000)} s and was stopped.`,
              { details: { file: job.shownName } },
            ),
          ),
        ),
      opts.timeoutMs,
    )
    opts.signal.addEventListener('abort', onAbort, { once: true })
    worker.on('message', (message: ParseMessage) =>
      finish(() => {
        if (message.ok) resolve(message.text)
        else if (message.error.code)
          reject(new BerthError(message.error.code, message.error.message, { details: message.error.details }))
        else reject(unreadable(job, message.error.message))
      }),
    )
    worker.on('error', (error: Error & { code?: string }) =>
      finish(() =>
        reject(
          unreadable(
            job,
            error.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? `it needs more than ${WORKER_HEAP_MB} MB of memory`
              : error.message,
          ),
        ),
      ),
    )
    worker.on('exit', (code) => finish(() => reject(unreadable(job, `the parser stopped (exit code ${code})`))))
  })
}

function unreadable(job: ParseJob, reason: string): BerthError {
  return new BerthError('DOCUMENT_UNREADABLE', `${job.shownName} could not be read: ${reason}`, {
    details: { file: job.shownName },
  })
}

function aborted(job: ParseJob): BerthError {
  return new BerthError('TOOL_ABORTED', `Reading ${job.shownName} was stopped.`, { details: { file: job.shownName } })
}

/**
 * The built `.js` entry beside this file; from the `.ts` sources (tsx,
 * vitest), a bootstrap registers tsx in the thread first, as
 * src/store/sqlite/upgrade-thread.ts does.
 */
function startWorker(job: ParseJob): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: WORKER_HEAP_MB }
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./parse-worker.js', import.meta.url), { workerData: job, resourceLimits })
  }
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'))
  const tsxApi = pathToFileURL(join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href
  const entry = new URL('./parse-worker.ts', import.meta.url).href
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(bootstrap, { eval: true, workerData: job, resourceLimits })
}

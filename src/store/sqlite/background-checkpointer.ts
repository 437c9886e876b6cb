import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/**
 * The worker's code, plain JavaScript evaluated in the thread so it runs the
 * same under tsx, vitest and the built dist. Its own connection to the file:
 * a PASSIVE checkpoint never blocks the writer, and its fsyncs of the
 * database file happen on this thread instead of inside someone's commit.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.file, { fileMustExist: true })
db.pragma('busy_timeout = 1000')
db.pragma('synchronous = FULL')
db.pragma('wal_autocheckpoint = 0')
parentPort.on('message', (message) => {
  if (message === 'stop') {
    db.close()
    parentPort.close()
    return
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
    parentPort.postMessage({ ok: true })
  } catch (error) {
    parentPort.postMessage({ ok: false, error: String(error && error.message), code: error && error.code })
  }
})
`

/** Commits before the thread starts: short-lived stores (tests, CLI reads) never pay for it. */
const START_AFTER_COMMITS = 64
/**
 * At most one checkpoint per interval: each copies the latest version of every
 * page written since the last, so waiting lets repeated writes to the same
 * index pages coalesce instead of being copied again and again.
 */
const MIN_INTERVAL_MS = 50
/** The writer's own automatic checkpoint, kept as a fallback should the thread fall behind or fail. */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 8000

/**
 * Keeps the WAL short from a worker thread. Left to itself, SQLite copies the
 * WAL into the database inside whichever commit crosses 1,000 pages, and that
 * commit then waits for a burst of random writes and an fsync of the whole
 * file: under many concurrent sessions that is most of an append's cost.
 * Here each commit only nudges the thread, which checkpoints whatever has
 * accumulated, once at a time, while the writer carries on.
 *
 * @example
 *   const checkpointer = new BackgroundCheckpointer('/var/data/events.db', report)
 *   // after each commit:
 *   checkpointer.nudge()
 *   // before closing the database:
 *   await checkpointer.stop()
 */
export class BackgroundCheckpointer {
  private worker: Worker | null = null
  private commits = 0
  private commitsAtStart = 0
  private running = false
  private timer: NodeJS.Timeout | null = null
  private lastStart = 0
  private stopped = false
  private failed = false

  constructor(
    private readonly file: string,
    private readonly onError: (error: Error) => void = () => {},
  ) {}

  /** A commit has added to the WAL. */
  nudge(): void {
    if (this.stopped || this.failed) return
    this.commits++
    if (this.worker === null && this.commits < START_AFTER_COMMITS) return
    this.schedule()
  }

  /** Waits for a checkpoint in progress, then ends the thread. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    const worker = this.worker
    this.worker = null
    if (!worker) return
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
    worker.ref()
    worker.postMessage('stop')
    await exited
  }

  /** One checkpoint at a time, at most one per interval; a nudge during one is remembered by the timer. */
  private schedule(): void {
    if (this.running || this.timer) return
    const wait = this.lastStart + MIN_INTERVAL_MS - Date.now()
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null
        this.run()
      }, wait)
      this.timer.unref()
      return
    }
    this.run()
  }

  private run(): void {
    if (this.stopped || this.failed) return
    const worker = this.worker ?? this.startWorker()
    if (!worker) return
    this.running = true
    this.commitsAtStart = this.commits
    this.lastStart = Date.now()
    worker.ref()
    worker.postMessage('checkpoint')
  }

  private startWorker(): Worker | null {
    try {
      const driver = createRequire(import.meta.url).resolve('better-sqlite3')
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: this.file, driver } })
      worker.on('message', (result: { ok: boolean; error?: string; code?: string }) => {
        this.running = false
        // After stop() the thread must keep the process alive until it has exited: stop() awaits that.
        if (!this.stopped) worker.unref()
        // Busy means another connection (a second process's checkpointer) is at it: fine.
        if (!result.ok && result.code !== 'SQLITE_BUSY')
          this.onError(new Error(`WAL checkpoint failed: ${result.error}`))
        // Commits arrived while it ran: their pages are for the next one.
        if (this.commits > this.commitsAtStart) this.schedule()
      })
      worker.on('error', (error) => this.fail(error))
      worker.on('exit', (code) => {
        if (!this.stopped) this.fail(new Error(`the WAL checkpoint thread exited with code ${code}`))
      })
      this.worker = worker
      return worker
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)))
      return null
    }
  }

  /** SQLite's own automatic checkpoint (kept at a higher threshold) takes over. */
  private fail(error: Error): void {
    if (this.failed) return
    this.failed = true
    this.running = false
    this.worker = null
    this.onError(error)
  }
}

/**
 * The upgrade thread's entry (started by `upgrade-thread.ts`): runs
 * `upgradeSqliteFile` with its own connection and reports to the parent.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { BerthError } from '../../core/errors.js'
import { upgradeSqliteFile } from './schema-upgrade.js'
import type { UpgradeMessage, UpgradeWorkerData } from './upgrade-thread.js'

const port = parentPort
if (!port) throw new Error('upgrade-worker.ts runs as a worker thread')
const data = workerData as UpgradeWorkerData
const send = (message: UpgradeMessage) => port.postMessage(message)

upgradeSqliteFile(data.file, {
  busyTimeoutMs: data.busyTimeoutMs,
  onProgress: (progress) => send({ type: 'progress', progress }),
  onBackup: (backup) => send({ type: 'backup', backup }),
  point: pauseHook(data.pauseAt),
}).then(
  (result) => send({ type: 'done', result }),
  (error: unknown) =>
    send({
      type: 'error',
      error:
        error instanceof BerthError
          ? { code: error.code, message: error.message, details: error.details }
          : { message: error instanceof Error ? (error.stack ?? error.message) : String(error) },
    }),
)

/**
 * Test-only: `BERTH_TEST_PAUSE_AT=<point>` stops this thread for good at a
 * named point (`backup-copying`, `backup-copied`, `backup-renamed`,
 * `step:<name>`), after saying so on stderr, so a test can SIGKILL the
 * process exactly there. Unset, it does nothing.
 */
function pauseHook(pauseAt: string | undefined): ((name: string) => void) | undefined {
  if (!pauseAt) return undefined
  return (name) => {
    if (name !== pauseAt) return
    process.stderr.write(`berth test hook: upgrade paused at ${name}\n`)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
  }
}

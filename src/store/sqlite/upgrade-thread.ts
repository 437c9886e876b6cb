import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { BerthError, type ErrorCode } from '../../core/errors.js'
import type { UpgradeHooks, UpgradeProgress, UpgradeResult } from './schema-upgrade.js'

export interface UpgradeWorkerData {
  file: string
  busyTimeoutMs?: number
  pauseAt?: string
}

export type UpgradeMessage =
  | { type: 'progress'; progress: UpgradeProgress }
  | { type: 'backup'; backup: Parameters<NonNullable<UpgradeHooks['onBackup']>>[0] }
  | { type: 'done'; result: UpgradeResult }
  | { type: 'error'; error: { code?: ErrorCode; message: string; details?: Record<string, unknown> } }

/**
 * Upgrade `file` (backup, then the pending schema steps) on a worker thread
 * with its own connection, so the calling thread keeps serving (503s, health
 * checks) while a large database is rewritten. Errors come back as the
 * BerthError the worker threw.
 *
 * @example
 *   await upgradeOnWorkerThread('/var/data/events.db', { onProgress: (p) => log(p) })
 */
export function upgradeOnWorkerThread(
  file: string,
  options: { busyTimeoutMs?: number; env?: Record<string, string | undefined> } & Omit<UpgradeHooks, 'point'>,
): Promise<UpgradeResult> {
  const data: UpgradeWorkerData = {
    file,
    busyTimeoutMs: options.busyTimeoutMs,
    pauseAt: (options.env ?? process.env).BERTH_TEST_PAUSE_AT || undefined,
  }
  const worker = startWorker(data)
  return new Promise<UpgradeResult>((resolve, reject) => {
    let settled = false
    worker.on('message', (message: UpgradeMessage) => {
      if (message.type === 'progress') options.onProgress?.(message.progress)
      else if (message.type === 'backup') options.onBackup?.(message.backup)
      else {
        settled = true
        void worker.terminate()
        if (message.type === 'done') resolve(message.result)
        else reject(rebuildError(file, message.error))
      }
    })
    worker.on('error', (error) => {
      if (settled) return
      settled = true
      reject(rebuildError(file, { message: error.stack ?? error.message }))
    })
    worker.on('exit', (code) => {
      if (settled) return
      settled = true
      reject(rebuildError(file, { message: `the upgrade thread exited with code ${code}` }))
    })
  })
}

function rebuildError(file: string, error: Extract<UpgradeMessage, { type: 'error' }>['error']): BerthError {
  if (error.code) return new BerthError(error.code, error.message, { details: error.details })
  return new BerthError('DATABASE_MIGRATION_FAILED', `Updating the schema of ${file} failed: ${error.message}`, {
    details: { file },
  })
}

/**
 * The built `.js` entry beside this file; when berth runs from its `.ts`
 * sources (tsx, vitest), a small bootstrap registers tsx in the thread first
 * (a thread does not inherit the loader vitest runs under).
 */
function startWorker(data: UpgradeWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./upgrade-worker.js', import.meta.url), { workerData: data })
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'))
  const tsxApi = pathToFileURL(join(tsxDir, 'dist', 'esm', 'api', 'index.mjs')).href
  const entry = new URL('./upgrade-worker.ts', import.meta.url).href
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(bootstrap, { eval: true, workerData: data })
}

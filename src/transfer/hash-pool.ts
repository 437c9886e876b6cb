import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { hashFile, type VerifiedFile } from './copy-verified.js'

/**
 * The worker's code, plain JavaScript evaluated in the thread so it runs the
 * same under tsx, vitest and the built dist. Synchronous reads: a worker has
 * nothing else to do, and it keeps the hashing off the main thread and off
 * libuv's small I/O pool.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const fs = require('node:fs')
const { createHash } = require('node:crypto')
const buffer = Buffer.allocUnsafe(1024 * 1024)
parentPort.on('message', ({ file }) => {
  let fd
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
    const hash = createHash('sha256')
    let size = 0
    let n
    while ((n = fs.readSync(fd, buffer, 0, buffer.length, size)) > 0) {
      hash.update(buffer.subarray(0, n))
      size += n
    }
    parentPort.postMessage({ size, sha256: hash.digest('hex') })
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message), code: error && error.code })
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
})
`

interface Job {
  file: string
  resolve: (result: VerifiedFile) => void
  reject: (error: unknown) => void
}

let pool: { idle: Worker[]; queue: Job[]; running: Map<Worker, Job> } | null | undefined

/**
 * SHA-256 and size of a file, computed on a small pool of worker threads so
 * that hashing the source and the copy of a file run on separate cores while
 * the main thread keeps copies flowing. Falls back to the main thread where
 * workers cannot start. Idle workers never keep the process alive.
 *
 * @example
 *   const [a, b] = await Promise.all([hashOffThread(source), hashOffThread(copy)])
 */
export function hashOffThread(file: string): Promise<VerifiedFile> {
  if (pool === undefined) pool = startPool()
  const active = pool
  if (active === null) return hashFile(file)
  return new Promise((resolve, reject) => {
    active.queue.push({ file, resolve, reject })
    pump(active)
  })
}

function startPool(): NonNullable<typeof pool> | null {
  try {
    const size = Math.max(2, Math.min(4, availableParallelism()))
    const state = { idle: [] as Worker[], queue: [] as Job[], running: new Map<Worker, Job>() }
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true })
      worker.on('message', (message: { size?: number; sha256?: string; error?: string; code?: string }) => {
        const job = state.running.get(worker)
        state.running.delete(worker)
        state.idle.push(worker)
        worker.unref()
        if (job !== undefined) {
          if (message.error !== undefined) job.reject(Object.assign(new Error(message.error), { code: message.code }))
          else job.resolve({ size: message.size as number, sha256: message.sha256 as string })
        }
        pump(state)
      })
      worker.on('error', (error) => {
        // A dead worker fails what it was doing; the rest of the pool carries on without it.
        state.running.get(worker)?.reject(error)
        state.running.delete(worker)
      })
      // Held only while it works (see pump): an idle pool never keeps the process alive.
      // (Adding a listener re-refs a worker, so this comes after them.)
      worker.unref()
      state.idle.push(worker)
    }
    return state
  } catch {
    return null
  }
}

function pump(state: NonNullable<typeof pool>): void {
  while (state.idle.length > 0 && state.queue.length > 0) {
    const worker = state.idle.pop() as Worker
    const job = state.queue.shift() as Job
    state.running.set(worker, job)
    worker.ref()
    worker.postMessage({ file: job.file })
  }
}

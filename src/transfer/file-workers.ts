import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { TreeEntry } from './tree-walk.js'

/**
 * The workers' code, plain JavaScript evaluated in the thread so it runs the
 * same under tsx, vitest and the built dist. Synchronous file calls: a worker
 * has nothing else to do, and one message per batch of files (or per walk)
 * replaces a dozen round trips per file through libuv's four-thread pool.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const fs = require('node:fs')
const path = require('node:path')
const CHUNK = 1024 * 1024
const data = Buffer.allocUnsafe(CHUNK)
const check = Buffer.allocUnsafe(CHUNK)
const isRoot = process.getuid && process.getuid() === 0

class Refused extends Error {
  constructor(kind, message) { super(message); this.kind = kind }
}

function assertSame(stats, expected) {
  if (!stats.isFile()) throw new Refused('changed', 'it is no longer a regular file')
  if (String(stats.ino) !== expected.ino) throw new Refused('changed', 'it was replaced by another file')
  if (Number(stats.size) !== expected.size) throw new Refused('changed', 'its size changed')
  if (String(stats.mtimeNs) !== expected.mtimeNs || String(stats.ctimeNs) !== expected.ctimeNs)
    throw new Refused('changed', 'it was modified')
}

function readFully(fd, buffer, length, position) {
  let done = 0
  while (done < length) {
    const n = fs.readSync(fd, buffer, done, length - done, position + done)
    if (n === 0) break
    done += n
  }
  return done
}

function writeFully(fd, buffer, length, position) {
  let done = 0
  while (done < length) done += fs.writeSync(fd, buffer, done, length - done, position + done)
}

// Copy, reading every chunk back from the copy and comparing it byte for byte.
function copy({ source, target, expected, mode, uid, gid, atime, mtime, replace }) {
  if (replace) {
    try { fs.unlinkSync(target) } catch (error) { if (error.code !== 'ENOENT') throw error }
  }
  assertSame(fs.lstatSync(source, { bigint: true }), expected)
  let input
  let output
  let created = false
  try {
    input = fs.openSync(source, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
    assertSame(fs.fstatSync(input, { bigint: true }), expected)
    output = fs.openSync(target, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
    created = true
    let position = 0
    for (;;) {
      const n = fs.readSync(input, data, 0, CHUNK, position)
      if (n === 0) break
      writeFully(output, data, n, position)
      if (readFully(output, check, n, position) !== n || data.compare(check, 0, n, 0, n) !== 0)
        throw new Refused('verify', 'the bytes read back from the copy at offset ' + position + ' differ from the source')
      position += n
    }
    assertSame(fs.fstatSync(input, { bigint: true }), expected)
    if (position !== expected.size) throw new Refused('changed', 'its size changed while it was read')
    fs.fchmodSync(output, mode)
    if (isRoot) { try { fs.fchownSync(output, uid, gid) } catch {} }
    fs.futimesSync(output, atime, mtime)
    return { size: position }
  } catch (error) {
    if (created) { try { fs.unlinkSync(target) } catch {} }
    throw error
  } finally {
    if (input !== undefined) fs.closeSync(input)
    if (output !== undefined) fs.closeSync(output)
  }
}

// Whether two files hold the same bytes.
function compare({ a, b }) {
  const fdA = fs.openSync(a, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
  try {
    const fdB = fs.openSync(b, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
    try {
      if (fs.fstatSync(fdA).size !== fs.fstatSync(fdB).size) return { same: false }
      for (let position = 0; ; position += CHUNK) {
        const n = readFully(fdA, data, CHUNK, position)
        if (readFully(fdB, check, CHUNK, position) !== n || data.compare(check, 0, n, 0, n) !== 0) return { same: false }
        if (n < CHUNK) return { same: true }
      }
    } finally {
      fs.closeSync(fdB)
    }
  } finally {
    fs.closeSync(fdA)
  }
}

function fsyncFile({ file }) {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
  try {
    fs.fdatasyncSync(fd)
    return {}
  } finally {
    fs.closeSync(fd)
  }
}

// Several copies in one message: small files cost more in messages than in bytes. Stops at the first failure.
function copyBatch({ items }) {
  const results = []
  for (const item of items) {
    try {
      results.push(copy(item))
    } catch (error) {
      return { results, failure: failureOf(error) }
    }
  }
  return { results }
}

function describe(relative, stats) {
  const type = stats.isFile() ? 'file' : stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? 'symlink' : 'other'
  return {
    path: relative,
    type,
    size: type === 'file' ? Number(stats.size) : 0,
    mode: Number(stats.mode) & 0o7777,
    uid: Number(stats.uid),
    gid: Number(stats.gid),
    atimeNs: stats.atimeNs,
    mtimeNs: stats.mtimeNs,
    ctimeNs: stats.ctimeNs,
    ino: stats.ino,
  }
}

// Every entry under root (root itself as ''), never following a symlink, sorted by path.
function walk({ root }) {
  const first = describe('', fs.lstatSync(root, { bigint: true }))
  if (first.type === 'symlink') first.target = fs.readlinkSync(root)
  const entries = [first]
  const pending = first.type === 'dir' ? [''] : []
  while (pending.length > 0) {
    const dir = pending.pop()
    for (const name of fs.readdirSync(path.join(root, dir))) {
      const relative = dir === '' ? name : dir + '/' + name
      const full = path.join(root, relative)
      const entry = describe(relative, fs.lstatSync(full, { bigint: true }))
      if (entry.type === 'symlink') entry.target = fs.readlinkSync(full)
      else if (entry.type === 'dir') pending.push(relative)
      entries.push(entry)
    }
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

function failureOf(error) {
  return { message: String(error && error.message), code: error && error.code, kind: error && error.kind }
}

const jobs = { copyBatch, compare, fsync: fsyncFile, walk }
parentPort.on('message', (job) => {
  try {
    parentPort.postMessage({ ok: true, result: jobs[job.kind](job) })
  } catch (error) {
    parentPort.postMessage({ ok: false, ...failureOf(error) })
  }
})
`

/** One copy: `expected` is the source as walked (bigints as decimal strings); times in seconds. */
export interface CopyItem {
  source: string
  target: string
  expected: { ino: string; size: number; mtimeNs: string; ctimeNs: string }
  mode: number
  uid: number
  gid: number
  atime: number
  mtime: number
  /** Remove whatever file is at `target` first (a staging path of our own); otherwise an existing target fails. */
  replace: boolean
}

/** Copies done in order in one message, stopping at the first failure. */
export interface CopyBatchJob {
  kind: 'copyBatch'
  items: CopyItem[]
}

/** What a worker reports of an error: `kind` is set when it refused the job (see FileJobRefused). */
export interface FileJobFailure {
  message: string
  code?: string
  kind?: 'changed' | 'verify'
}

type Job =
  | CopyBatchJob
  | { kind: 'compare'; a: string; b: string }
  | { kind: 'fsync'; file: string }
  | { kind: 'walk'; root: string }
type ResultOf<J extends Job> = J extends CopyBatchJob
  ? { results: { size: number }[]; failure?: FileJobFailure }
  : J extends { kind: 'compare' }
    ? { same: boolean }
    : J extends { kind: 'walk' }
      ? TreeEntry[]
      : object

/** A job the worker refused: the source changed (`changed`) or the copy read back wrong (`verify`). */
export class FileJobRefused extends Error {
  constructor(
    readonly kind: 'changed' | 'verify',
    message: string,
  ) {
    super(message)
  }
}

/** The error a worker reported, rebuilt on this side: FileJobRefused, or an Error with the system `code`. */
export function errorOf(failure: FileJobFailure): Error {
  if (failure.kind) return new FileJobRefused(failure.kind, failure.message)
  return Object.assign(new Error(failure.message), { code: failure.code })
}

interface Queued {
  job: Job
  resolve: (result: unknown) => void
  reject: (error: unknown) => void
}

interface Pool {
  idle: Worker[]
  queue: Queued[]
  running: Map<Worker, Queued>
}

/**
 * More threads than cores: a job spends part of its time waiting on the disk
 * (reads of uncached sources, fsync jobs), and other jobs fill those waits.
 */
const POOL_SIZE = Math.max(4, Math.min(8, availableParallelism() * 2))
let pool: Pool | undefined

/**
 * Run one file job on the shared pool of worker threads. Idle workers never
 * keep the process alive.
 *
 * @example
 *   const { results, failure } = await runFileJob({ kind: 'copyBatch', items })
 *   const { same } = await runFileJob({ kind: 'compare', a: '/old/a.pdf', b: '/new/a.pdf' })
 */
export function runFileJob<J extends Job>(job: J): Promise<ResultOf<J>> {
  pool ??= startPool()
  const active = pool
  return new Promise((resolve, reject) => {
    active.queue.push({ job, resolve: resolve as (result: unknown) => void, reject })
    pump(active)
  })
}

function startPool(): Pool {
  const state: Pool = { idle: [], queue: [], running: new Map() }
  for (let i = 0; i < POOL_SIZE; i++) {
    const worker = new Worker(WORKER_SOURCE, { eval: true })
    worker.on('message', (message: { ok: true; result: unknown } | ({ ok: false } & FileJobFailure)) => {
      const queued = state.running.get(worker)
      state.running.delete(worker)
      state.idle.push(worker)
      worker.unref()
      if (queued !== undefined) {
        if (message.ok) queued.resolve(message.result)
        else queued.reject(errorOf(message))
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
}

function pump(state: Pool): void {
  while (state.idle.length > 0 && state.queue.length > 0) {
    const worker = state.idle.pop() as Worker
    const queued = state.queue.shift() as Queued
    state.running.set(worker, queued)
    worker.ref()
    worker.postMessage(queued.job)
  }
}

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { isBerthError } from '../../src/core/errors.js'
import { acquireRootLock, HOLDER_FILE, inspectRootLock } from '../../src/storage/root-lock.js'

const fixture = fileURLToPath(new URL('./fixtures/hold-lock.ts', import.meta.url))

let root: string
let child: ChildProcess | undefined

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'berth-lock-'))
})
afterEach(() => {
  child?.kill('SIGKILL')
  child = undefined
  rmSync(root, { recursive: true, force: true })
})

function lockError(fn: () => unknown): Error & { code: string; details?: Record<string, unknown> } {
  try {
    fn()
  } catch (err) {
    if (isBerthError(err)) return err
    throw err
  }
  throw new Error('expected a BerthError')
}

/** Start a child process that takes the lock; resolves once it printed "locked". */
function holdInChild(): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture, root], { stdio: ['ignore', 'pipe', 'pipe'] })
  child = proc
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('locked\n')) resolve(proc)
    })
    proc.stderr?.on('data', (d: Buffer) => (err += d.toString()))
    proc.on('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)))
  })
}

function exited(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) =>
    proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.on('exit', () => resolve()),
  )
}

describe('acquireRootLock', () => {
  it('takes the lock, records the holder, and releases it', () => {
    const lock = acquireRootLock(root, 'berth serve')
    expect(lock.path).toBe(join(root, '.berth-server.lock'))
    const holder = JSON.parse(readFileSync(join(root, HOLDER_FILE), 'utf8'))
    expect(holder).toMatchObject({ pid: process.pid, hostname: hostname(), command: 'berth serve' })
    expect(Number.isNaN(Date.parse(holder.startedAt))).toBe(false)
    expect(inspectRootLock(root)).toEqual({ locked: true, holder })
    lock.release()
    lock.release() // idempotent
    expect(existsSync(join(root, HOLDER_FILE))).toBe(false)
    expect(inspectRootLock(root)).toEqual({ locked: false, holder: null })
    acquireRootLock(root, 'again').release()
  })

  it('refuses a second acquire in the same process', () => {
    const lock = acquireRootLock(root, 'first')
    try {
      expect(lockError(() => acquireRootLock(root, 'second')).code).toBe('ROOT_LOCKED')
    } finally {
      lock.release()
    }
  })

  it('is held across processes until the holder dies, even by SIGKILL', async () => {
    const proc = await holdInChild()

    const err = lockError(() => acquireRootLock(root, 'parent'))
    expect(err.code).toBe('ROOT_LOCKED')
    expect(err.message).toContain(root)
    expect(err.message).toContain(`pid ${proc.pid}`)
    expect(err.message).toContain(hostname())
    expect(err.message).toMatch(/Only one server may use a data root at a time/)
    expect(err.message).toMatch(/eval runner/)

    const seen = inspectRootLock(root)
    expect(seen.locked).toBe(true)
    expect(seen.holder?.pid).toBe(proc.pid)

    proc.kill('SIGKILL')
    await exited(proc)

    // No cleanup needed: the OS dropped the lock with the process.
    expect(inspectRootLock(root).locked).toBe(false)
    const lock = acquireRootLock(root, 'parent')
    expect(JSON.parse(readFileSync(join(root, HOLDER_FILE), 'utf8')).pid).toBe(process.pid)
    lock.release()
  })
})

describe('inspectRootLock', () => {
  it('reports unlocked and creates nothing on a fresh root', () => {
    expect(inspectRootLock(root)).toEqual({ locked: false, holder: null })
    expect(existsSync(join(root, '.berth-server.lock'))).toBe(false)
  })
})

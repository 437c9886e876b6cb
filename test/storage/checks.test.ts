import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { isBerthError } from '../../src/core/errors.js'
import { diskSpace, ensureWritableRoot, writeCanary } from '../../src/storage/checks.js'
import { tryMount, unmount } from '../helpers/mount.js'

const fixture = fileURLToPath(new URL('./fixtures/ensure-writable.ts', import.meta.url))
const NOBODY = 65534

let base: string
const mounts: string[] = []

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'berth-checks-'))
})
afterEach(() => {
  for (const m of mounts.splice(0)) unmount(m)
  chmodTree(base)
  rmSync(base, { recursive: true, force: true })
})

/** Undo read-only modes so cleanup works when the tests run unprivileged. */
function chmodTree(dir: string): void {
  if (!existsSync(dir)) return
  chmodSync(dir, 0o755)
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) chmodTree(join(dir, e.name))
}

async function failure(p: Promise<unknown>): Promise<Error & { code: string; details?: Record<string, unknown> }> {
  try {
    await p
  } catch (err) {
    if (isBerthError(err)) return err
    throw err
  }
  throw new Error('expected a BerthError')
}

/**
 * Run ensureWritableRoot where permission bits apply. Root bypasses them, so
 * as root run it in a child as `nobody`; unprivileged, run it here.
 */
async function ensureAsUnprivileged(
  root: string,
): Promise<{ ok: boolean; code?: string; message?: string; uid: number }> {
  if (process.getuid?.() !== 0) {
    try {
      await ensureWritableRoot(root)
      return { ok: true, uid: process.getuid?.() ?? -1 }
    } catch (err) {
      if (!isBerthError(err)) throw err
      return { ok: false, code: err.code, message: err.message, uid: process.getuid?.() ?? -1 }
    }
  }
  const run = spawnSync(process.execPath, ['--import', 'tsx', fixture, root], {
    uid: NOBODY,
    gid: NOBODY,
    encoding: 'utf8',
  })
  if (run.status !== 0) throw new Error(`fixture failed: ${run.stderr}`)
  return { ...JSON.parse(run.stdout), uid: NOBODY }
}

describe('ensureWritableRoot', () => {
  it('accepts a writable directory and leaves nothing behind', async () => {
    await ensureWritableRoot(base)
    expect(readdirSync(base)).toEqual([])
  })

  it('creates a missing root with its parents', async () => {
    const root = join(base, 'a', 'b', 'data')
    await ensureWritableRoot(root)
    expect(statSync(root).isDirectory()).toBe(true)
  })

  it('refuses a root that is a file', async () => {
    const root = join(base, 'file')
    writeFileSync(root, '')
    const err = await failure(ensureWritableRoot(root))
    expect(err.code).toBe('ROOT_NOT_A_DIRECTORY')
    expect(err.message).toContain(root)
  })

  it('refuses a root below a file, naming the file', async () => {
    writeFileSync(join(base, 'file'), '')
    const err = await failure(ensureWritableRoot(join(base, 'file', 'data')))
    expect(err.code).toBe('ROOT_NOT_A_DIRECTORY')
    expect(err.message).toContain(join(base, 'file'))
  })

  it('refuses a directory this user cannot write, naming path, uid, owner and the fix', async () => {
    const root = join(base, 'locked')
    mkdirSync(root)
    chmodSync(base, 0o755)
    chmodSync(root, 0o555)
    const owner = statSync(root).uid
    const result = await ensureAsUnprivileged(root)
    expect(result.ok).toBe(false)
    expect(result.code).toBe('ROOT_NOT_WRITABLE')
    expect(result.message).toContain(root)
    expect(result.message).toContain(`user id ${result.uid}`)
    expect(result.message).toContain(`owned by user id ${owner}`)
    expect(result.message).toContain(`chown -R ${result.uid} ${root}`)
    expect(result.message).toMatch(/--data-dir|BERTH_DATA_DIR/)
  })

  it('refuses to create a root under a directory this user cannot write', async () => {
    const parent = join(base, 'locked')
    mkdirSync(parent)
    chmodSync(base, 0o755)
    chmodSync(parent, 0o555)
    const root = join(parent, 'data')
    const result = await ensureAsUnprivileged(root)
    expect(result.code).toBe('ROOT_NOT_WRITABLE')
    expect(result.message).toContain(root)
    expect(result.message).toContain(`mkdir -p ${root} && chown -R ${result.uid} ${root}`)
  })

  it('refuses a read-only mount, even as root (skipped without mount privileges)', async (ctx) => {
    const root = join(base, 'ro')
    if (!tryMount(root, 'ro,size=64k')) return ctx.skip()
    mounts.push(root)
    const err = await failure(ensureWritableRoot(root))
    expect(err.code).toBe('ROOT_NOT_WRITABLE')
    expect(err.message).toContain(root)
    expect(err.message).toMatch(/read-only file system/)
    expect(err.message).toContain(`user id ${process.getuid?.()}`)
  })
})

describe('writeCanary', () => {
  it('round-trips a canary and removes it', async () => {
    await writeCanary(base)
    expect(readdirSync(base)).toEqual([])
  })

  it('fails with ROOT_CANARY_FAILED naming the path when the root is missing', async () => {
    const root = join(base, 'missing')
    const err = await failure(writeCanary(root))
    expect(err.code).toBe('ROOT_CANARY_FAILED')
    expect(err.message).toContain(root)
  })

  it('fails on a full disk and leaves no canary (skipped without mount privileges)', async (ctx) => {
    const root = join(base, 'full')
    if (!tryMount(root, 'size=64k')) return ctx.skip()
    mounts.push(root)
    // Fill the tmpfs completely.
    const filler = join(root, 'filler')
    try {
      writeFileSync(filler, Buffer.alloc(1024 * 1024))
    } catch {
      // ENOSPC expected: whatever fitted stays.
    }
    const err = await failure(writeCanary(root))
    expect(err.code).toBe('ROOT_CANARY_FAILED')
    expect(err.message).toContain(root)
    expect(err.message).toContain('disk is full')
    expect(readdirSync(root)).toEqual(['filler'])
  })
})

describe('diskSpace', () => {
  it('reports free and total bytes', async () => {
    const { freeBytes, totalBytes } = await diskSpace(base)
    expect(totalBytes).toBeGreaterThan(0)
    expect(freeBytes).toBeGreaterThanOrEqual(0)
    expect(freeBytes).toBeLessThanOrEqual(totalBytes)
  })
})

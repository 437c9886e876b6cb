import { randomUUID } from 'node:crypto'
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ErrorCode } from '../../src/core/errors.js'
import { isBerthError } from '../../src/core/errors.js'
import { writeFileAtomic } from '../../src/workspace/atomic-write.js'
import { Workspaces } from '../../src/workspace/workspaces.js'

async function expectRejects(promise: Promise<unknown>, code: ErrorCode, status: number): Promise<Error> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err, `expected ${code}, nothing was thrown`).not.toBeNull()
  expect(isBerthError(err, code), `expected ${code}, got ${String(err)}`).toBe(true)
  expect((err as { status: number }).status).toBe(status)
  return err as Error
}

async function tempFiles(dir: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(dir, { recursive: true })) {
    if (path.basename(entry).startsWith('.berth-tmp-')) found.push(entry)
  }
  return found
}

let tmp: string
let root: string
let outside: string
let id: string

beforeEach(async () => {
  tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), 'berth-workspaces-')))
  root = path.join(tmp, 'data', 'workspace')
  outside = path.join(tmp, 'outside')
  await mkdir(outside)
  await writeFile(path.join(outside, 'secret.txt'), 'secret')
  id = randomUUID()
})

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true })
})

describe('create, exists, list, remove', () => {
  it('creates the folder with uploaded_files/ and agent_memory/, idempotently', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    const dir = await ws.create(id)
    expect(dir).toBe(path.join(root, id))
    expect((await readdir(dir)).sort()).toEqual(['agent_memory', 'uploaded_files'])
    await writeFile(path.join(dir, 'uploaded_files', 'keep.txt'), 'kept')
    expect(await ws.create(id)).toBe(dir)
    expect(await readFile(path.join(dir, 'uploaded_files', 'keep.txt'), 'utf8')).toBe('kept')
    expect(await ws.exists(id)).toBe(true)
    expect(await ws.exists(randomUUID())).toBe(false)
  })

  it('refuses session ids that are not one safe folder name', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    for (const bad of ['', '.', '..', '../x', '/', '/etc', 'a/b', 'a\\b', 'a.b', 'a\0b']) {
      await expectRejects(ws.create(bad), 'PATH_INVALID', 400)
      expect(() => ws.dirFor(bad)).toThrow(/valid session id/)
      await expectRejects(ws.resolve(bad, 'x.txt'), 'PATH_INVALID', 400)
    }
    expect(await readdir(tmp)).not.toContain('x')
  })

  it('lists the folders on disk, sorted, and nothing when the root is missing', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    expect(await ws.list()).toEqual([])
    await ws.create('b-session')
    await ws.create('a-session')
    await writeFile(path.join(root, 'stray-file.txt'), 'x')
    await mkdir(path.join(root, 'not.a.session'))
    expect(await ws.list()).toEqual(['a-session', 'b-session', 'not.a.session'])
  })

  it('removes a folder without following symlinks out of it', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    const dir = await ws.create(id)
    await symlink(outside, path.join(dir, 'out'))
    await ws.remove(id)
    expect(await ws.exists(id)).toBe(false)
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('secret')
    await ws.remove(id) // already gone: not an error
  })
})

describe('dirFor', () => {
  it('finds the folder by id under the current root, whatever the stored path says', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    await ws.create(id)
    for (const stored of [
      `/var/data/workspace/${id}`,
      `/var/data/workspaces/${id}/`,
      `C:\\Users\\me\\ii-agent\\workspace\\${id}`,
      '/etc',
      '/',
      '..',
      '',
    ]) {
      expect(ws.dirFor(id, stored)).toBe(path.join(root, id))
    }
    expect(ws.dirFor(id, null)).toBe(path.join(root, id))
  })

  it("falls back to the stored folder's name under the current root (GAIA task folders)", async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    await ws.create('task-17')
    expect(ws.dirFor(id, '/var/data/workspace/task-17')).toBe(path.join(root, 'task-17'))
    expect(ws.dirFor(id, 'D:\\old\\workspace\\task-17\\')).toBe(path.join(root, 'task-17'))
    expect(await ws.exists(id, '/var/data/workspace/task-17')).toBe(true)
    expect(await ws.resolve(id, 'a.txt', { storedDir: '/elsewhere/task-17' })).toBe(path.join(root, 'task-17', 'a.txt'))
  })

  it('never uses the stored path itself, even when it exists', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    const foreign = path.join(outside, 'other-session')
    await mkdir(foreign)
    expect(ws.dirFor(id, foreign)).toBe(path.join(root, id))
    expect(ws.dirFor(id, outside)).toBe(path.join(root, id))
    await expectRejects(ws.resolve(id, 'secret.txt', { storedDir: outside }), 'WORKSPACE_NOT_FOUND', 404)
  })

  it('opens folders moved by hand to a new root', async () => {
    const oldRoot = path.join(tmp, 'old', 'workspace')
    const before = new Workspaces({ root: oldRoot, quotaBytes: null })
    await before.create(id)
    await before.writeFile(id, 'uploaded_files/report.pdf', 'pdf bytes')
    await mkdir(root, { recursive: true })
    await rename(path.join(oldRoot, id), path.join(root, id)) // mv workspace/* /var/data/workspace/
    const after = new Workspaces({ root, quotaBytes: null })
    const file = await after.resolve(id, 'uploaded_files/report.pdf', { storedDir: path.join(oldRoot, id) })
    expect(file).toBe(path.join(root, id, 'uploaded_files', 'report.pdf'))
    expect(await readFile(file, 'utf8')).toBe('pdf bytes')
  })
})

describe('resolve', () => {
  it('resolves inside the workspace and refuses escapes', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    const dir = await ws.create(id)
    await symlink(outside, path.join(dir, 'out'))
    expect(await ws.resolve(id, 'uploaded_files/a.txt')).toBe(path.join(dir, 'uploaded_files', 'a.txt'))
    expect(await ws.resolve(id, '', { allowRoot: true })).toBe(dir)
    await expectRejects(ws.resolve(id, ''), 'PATH_INVALID', 400)
    await expectRejects(ws.resolve(id, '../../outside/secret.txt'), 'PATH_INVALID', 400)
    await expectRejects(ws.resolve(id, '/etc/passwd'), 'PATH_INVALID', 400)
    await expectRejects(ws.resolve(id, 'out/secret.txt'), 'PATH_OUTSIDE_WORKSPACE', 403)
  })

  it('says WORKSPACE_NOT_FOUND for a missing folder', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    await expectRejects(ws.resolve(id, 'a.txt'), 'WORKSPACE_NOT_FOUND', 404)
    await expectRejects(ws.usage(id), 'WORKSPACE_NOT_FOUND', 404)
  })
})

describe('usage and quota', () => {
  it('sums regular files and does not follow symlinks', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    const dir = await ws.create(id)
    await writeFile(path.join(dir, 'a.bin'), Buffer.alloc(1000))
    await mkdir(path.join(dir, 'deep', 'er'), { recursive: true })
    await writeFile(path.join(dir, 'deep', 'er', 'b.bin'), Buffer.alloc(234))
    await writeFile(path.join(outside, 'big.bin'), Buffer.alloc(100_000))
    await symlink(path.join(outside, 'big.bin'), path.join(dir, 'big-link'))
    await symlink('/', path.join(dir, 'root-link'))
    await symlink('.', path.join(dir, 'loop'))
    expect(await ws.usage(id)).toBe(1234)
  })

  it('does nothing without a quota', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    await ws.create(id)
    await ws.assertQuota(id, Number.MAX_SAFE_INTEGER)
  })

  it('refuses a write that would pass the quota, with a clear message', async () => {
    const ws = new Workspaces({ root, quotaBytes: 1000 })
    await ws.create(id)
    await ws.writeFile(id, 'a.bin', Buffer.alloc(600))
    await ws.assertQuota(id, 400) // exactly at the limit is fine
    const err = await expectRejects(ws.assertQuota(id, 401), 'WORKSPACE_QUOTA_EXCEEDED', 413)
    expect(err.message).toContain('600 B')
    expect(err.message).toContain('1000 B')
    expect(err.message).toMatch(/Delete files/)
    expect((err as unknown as { details: unknown }).details).toEqual({
      sessionId: id,
      usedBytes: 600,
      incomingBytes: 401,
      limitBytes: 1000,
    })
    await expectRejects(ws.writeFile(id, 'b.bin', Buffer.alloc(401)), 'WORKSPACE_QUOTA_EXCEEDED', 413)
    expect(await readdir(path.join(root, id))).not.toContain('b.bin')
    expect(await tempFiles(path.join(root, id))).toEqual([])
  })

  it('counts only the growth when a file is replaced', async () => {
    const ws = new Workspaces({ root, quotaBytes: 1000 })
    await ws.create(id)
    await ws.writeFile(id, 'a.bin', Buffer.alloc(900))
    await ws.writeFile(id, 'a.bin', Buffer.alloc(950))
    await ws.writeFile(id, 'a.bin', Buffer.alloc(10)) // shrinking always passes
    expect(await ws.usage(id)).toBe(10)
    await expectRejects(ws.writeFile(id, 'a.bin', Buffer.alloc(1001)), 'WORKSPACE_QUOTA_EXCEEDED', 413)
  })

  it('measures multi-byte strings in bytes', async () => {
    const ws = new Workspaces({ root, quotaBytes: 10 })
    await ws.create(id)
    await expectRejects(ws.writeFile(id, 'a.txt', '日本語🎉'), 'WORKSPACE_QUOTA_EXCEEDED', 413) // 13 bytes
    await ws.writeFile(id, 'a.txt', '日本語') // 9 bytes
  })
})

describe('writeFile', () => {
  it('writes atomically, creating parent folders, and leaves no temp files', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    await ws.create(id)
    const file = await ws.writeFile(id, 'site/assets/app.js', 'console.log(1)\n')
    expect(file).toBe(path.join(root, id, 'site', 'assets', 'app.js'))
    expect(await readFile(file, 'utf8')).toBe('console.log(1)\n')
    await ws.writeFile(id, 'site/assets/app.js', new Uint8Array([1, 2, 3]))
    expect([...(await readFile(file))]).toEqual([1, 2, 3])
    expect(await tempFiles(path.join(root, id))).toEqual([])
  })

  it('never leaves a torn file when writers race', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    await ws.create(id)
    const versions = ['a', 'b', 'c', 'd'].map((c) => c.repeat(256 * 1024))
    await Promise.all(versions.map((v) => ws.writeFile(id, 'race.txt', v)))
    expect(versions).toContain(await readFile(path.join(root, id, 'race.txt'), 'utf8'))
    expect(await tempFiles(path.join(root, id))).toEqual([])
  })

  it('keeps the old content and removes the temp file when the rename fails', async () => {
    const dir = path.join(tmp, 'atomic')
    await mkdir(path.join(dir, 'target', 'child'), { recursive: true })
    await expect(writeFileAtomic(path.join(dir, 'target'), 'x')).rejects.toThrow()
    expect(await readdir(dir)).toEqual(['target'])
    expect(await readdir(path.join(dir, 'target'))).toEqual(['child'])
  })

  it('refuses to write over a folder', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    await ws.create(id)
    await expectRejects(ws.writeFile(id, 'uploaded_files', 'x'), 'PATH_IS_A_FOLDER', 409)
  })

  it('refuses writes through a symlink leading out, creating nothing outside', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    const dir = await ws.create(id)
    await symlink(outside, path.join(dir, 'out'))
    await symlink(path.join(outside, 'planted.txt'), path.join(dir, 'planted.txt'))
    await expectRejects(ws.writeFile(id, 'out/new/evil.txt', 'x'), 'PATH_OUTSIDE_WORKSPACE', 403)
    await expectRejects(ws.writeFile(id, 'out/secret.txt', 'x'), 'PATH_OUTSIDE_WORKSPACE', 403)
    await expectRejects(ws.writeFile(id, 'planted.txt', 'x'), 'PATH_OUTSIDE_WORKSPACE', 403)
    expect((await readdir(outside)).sort()).toEqual(['secret.txt'])
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('secret')
  })

  it('replaces a symlink that points inside instead of writing through it', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    const dir = await ws.create(id)
    await writeFile(path.join(dir, 'real.txt'), 'original')
    await symlink('real.txt', path.join(dir, 'alias.txt'))
    await ws.writeFile(id, 'alias.txt', 'new')
    expect(await readFile(path.join(dir, 'real.txt'), 'utf8')).toBe('original')
    expect((await lstat(path.join(dir, 'alias.txt'))).isSymbolicLink()).toBe(false)
    await expect(readlink(path.join(dir, 'alias.txt'))).rejects.toThrow()
  })

  it('round-trips unicode names and content exactly', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    await ws.create(id)
    const name = 'é/日本語/🎉 👨‍👩‍👧.txt'
    const content = 'héllo 日本語 🎉 e\u0301'
    const file = await ws.writeFile(id, name, content)
    expect(file).toBe(path.join(root, id, ...name.split('/')))
    expect(await readFile(file, 'utf8')).toBe(content)
    expect(await readdir(path.join(root, id, 'é', '日本語'))).toEqual(['🎉 👨‍👩‍👧.txt'])
    expect(await ws.resolve(id, name)).toBe(file)
  })

  it('writes an encoded traversal as a literal file inside', async () => {
    const ws = new Workspaces({ root, quotaBytes: null })
    const dir = await ws.create(id)
    const file = await ws.writeFile(id, '%2e%2e%2f%2e%2e%2fescape.txt', 'x')
    expect(path.dirname(file)).toBe(dir)
    expect(await readdir(dir)).toContain('%2e%2e%2f%2e%2e%2fescape.txt')
  })
})

import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { type ErrorCode, isBerthError } from '../../src/core/errors.js'
import {
  type WorkspaceEntry,
  type WorkspaceKey,
  type WorkspaceStorage,
  workspaceKey,
} from '../../src/workspace/workspace-storage.js'

/** A storage under test, and how to drop it (its bucket prefix, its temp folder) afterwards. */
export interface StorageFixture {
  storage: WorkspaceStorage
  close?(): Promise<void>
}

export interface ContractOptions {
  /** The backend keeps symbolic links (local disk): a link leading out of the workspace is checked. */
  symlinks: boolean
}

/**
 * The behaviour every `WorkspaceStorage` promises (src/workspace/workspace-storage.ts),
 * as one suite each backend runs: `makeStorage` gives a fresh, empty storage
 * with the given quota. Nothing here knows which backend it talks to, except
 * the tests behind a capability flag.
 *
 * @example
 *   describeWorkspaceStorage('local', async ({ quotaBytes }) => ({ storage: new LocalWorkspaceStorage({ root, quotaBytes }) }), { symlinks: true })
 */
export function describeWorkspaceStorage(
  name: string,
  makeStorage: (options: { quotaBytes: number | null }) => Promise<StorageFixture>,
  options: ContractOptions,
): void {
  describe(`WorkspaceStorage contract: ${name}`, () => {
    const fixtures: StorageFixture[] = []
    afterEach(async () => {
      for (const fixture of fixtures.splice(0)) await fixture.close?.()
    })

    /** A fresh storage and one created workspace in it. */
    async function open(quotaBytes: number | null = null): Promise<{ storage: WorkspaceStorage; key: WorkspaceKey }> {
      const fixture = await makeStorage({ quotaBytes })
      fixtures.push(fixture)
      const key = randomUUID()
      await fixture.storage.create(key)
      return { storage: fixture.storage, key }
    }

    it('creates a workspace with its standard folders, idempotently, keeping what is in it', async () => {
      const { storage, key } = await open()
      const other = randomUUID()
      expect(await storage.exists(other)).toBe(false)
      await storage.create(other)
      expect(await storage.exists(other)).toBe(true)
      expect((await storage.stat(other, 'uploaded_files'))?.type).toBe('directory')
      expect((await storage.stat(other, 'agent_memory'))?.type).toBe('directory')
      await storage.write(key, 'uploaded_files/keep.txt', 'kept')
      await storage.create(key)
      expect(await text(storage, key, 'uploaded_files/keep.txt')).toBe('kept')
      expect((await storage.stat(key, ''))?.type).toBe('directory')
    })

    it('stat: null for a missing path, WORKSPACE_NOT_FOUND for a missing workspace, PATH_INVALID for a bad key', async () => {
      const { storage, key } = await open()
      expect(await storage.stat(key, 'nothing.txt')).toBeNull()
      expect(await storage.stat(key, 'no/such/folder/file.txt')).toBeNull()
      await expectCode(storage.stat(randomUUID(), 'a.txt'), 'WORKSPACE_NOT_FOUND')
      await expectCode(storage.stat('../etc', 'passwd'), 'PATH_INVALID')
      await expectCode(storage.create('a/b'), 'PATH_INVALID')
    })

    it('reads back exactly what was written, with its size, and a new etag after a replace', async () => {
      const { storage, key } = await open()
      const bytes = randomBytes(256 * 1024 + 7)
      const written = await storage.write(key, 'data/blob.bin', bytes)
      expect(written).toMatchObject({ path: 'data/blob.bin', type: 'file', size: bytes.length })
      const read = await storage.read(key, 'data/blob.bin')
      expect((await collect(read.body)).equals(bytes)).toBe(true)
      expect(read.entry.size).toBe(bytes.length)
      expect(read.entry.etag).toBe(written.etag)
      const stat = (await storage.stat(key, 'data/blob.bin')) as WorkspaceEntry
      expect(stat).toMatchObject({ path: 'data/blob.bin', type: 'file', size: bytes.length, etag: written.etag })
      expect(stat.etag).toMatch(/^(W\/)?"[^"]+"$/)
      expect((await storage.stat(key, 'data'))?.type).toBe('directory')

      const replaced = await storage.write(key, 'data/blob.bin', 'short now')
      expect(replaced.size).toBe(9)
      expect(replaced.etag).not.toBe(written.etag)
      expect(await text(storage, key, 'data/blob.bin')).toBe('short now')
      expect(await text(storage, key, 'empty.txt').catch(() => 'missing')).toBe('missing')
      await storage.write(key, 'empty.txt', new Uint8Array(0))
      expect(await text(storage, key, 'empty.txt')).toBe('')
    })

    it('reads ranges: the first byte, a middle slice, the last byte, a suffix, an end past the size', async () => {
      const { storage, key } = await open()
      const bytes = randomBytes(10_000)
      await storage.write(key, 'r.bin', bytes)
      const cases: [number, number, number, number][] = [
        [0, 0, 0, 0],
        [1000, 1999, 1000, 1999],
        [9999, 9999, 9999, 9999],
        [9900, 9999, 9900, 9999],
        [9000, 20_000, 9000, 9999],
      ]
      for (const [start, end, wantStart, wantEnd] of cases) {
        const read = await storage.read(key, 'r.bin', { range: { start, end } })
        const got = await collect(read.body)
        expect(got.equals(bytes.subarray(wantStart, wantEnd + 1)), `range ${start}-${end}`).toBe(true)
        expect(read.range).toEqual({ start: wantStart, end: wantEnd })
        expect(read.entry.size).toBe(bytes.length)
      }
    })

    it('replaces atomically: readers during a rewrite see the old bytes or the new, never a mix', async () => {
      const { storage, key } = await open()
      const size = 512 * 1024
      const versions = [Buffer.alloc(size, 'a'), Buffer.alloc(size, 'b')]
      await storage.write(key, 'swap.bin', versions[0] as Buffer)
      const seen = new Set<string>()
      const reads: Promise<void>[] = []
      for (let round = 1; round <= 6; round++) {
        const writing = storage.write(key, 'swap.bin', versions[round % 2] as Buffer)
        for (let i = 0; i < 4; i++) {
          reads.push(
            storage.read(key, 'swap.bin').then(async (read) => {
              const got = await collect(read.body)
              expect(got.length).toBe(size)
              const first = got[0] as number
              expect(got.every((byte) => byte === first)).toBe(true)
              seen.add(String.fromCharCode(first))
            }),
          )
        }
        await writing
      }
      await Promise.all(reads)
      expect([...seen].every((letter) => letter === 'a' || letter === 'b')).toBe(true)
    })

    it('lists every entry once, depth first with siblings by name, down to a depth, below a folder', async () => {
      const { storage, key } = await open()
      for (const file of ['b.txt', 'a/z.txt', 'a/b/c.txt', 'a-c.txt', 'A.txt', 'a/b/d/e.txt', 'c/empty/.keep']) {
        await storage.write(key, file, file)
      }
      await storage.remove(key, 'c/empty/.keep')
      const all = await paths(storage.list(key))
      expect(all).toEqual([
        'A.txt',
        'a',
        'a/b',
        'a/b/c.txt',
        'a/b/d',
        'a/b/d/e.txt',
        'a/z.txt',
        'a-c.txt',
        'agent_memory',
        'b.txt',
        'c',
        'c/empty',
        'uploaded_files',
      ])
      expect(await paths(storage.list(key, 'a'))).toEqual(['a/b', 'a/b/c.txt', 'a/b/d', 'a/b/d/e.txt', 'a/z.txt'])
      expect(await paths(storage.list(key, 'a', { depth: 1 }))).toEqual(['a/b', 'a/z.txt'])
      expect(await paths(storage.list(key, '', { depth: 1 }))).toEqual([
        'A.txt',
        'a',
        'a-c.txt',
        'agent_memory',
        'b.txt',
        'c',
        'uploaded_files',
      ])
      const entries = new Map<string, WorkspaceEntry>()
      for await (const entry of storage.list(key, 'a')) entries.set(entry.path, entry)
      expect(entries.get('a/b/c.txt')).toMatchObject({ type: 'file', size: 'a/b/c.txt'.length })
      expect(entries.get('a/b')).toMatchObject({ type: 'directory' })
      await expectCode(paths(storage.list(key, 'b.txt')), 'PATH_INVALID')
      await expectCode(paths(storage.list(key, 'nothing')), 'FILE_NOT_FOUND')
    })

    it('removes a file, a folder with everything in it, nothing (no error), and the whole workspace', async () => {
      const { storage, key } = await open()
      await storage.write(key, 'keep.txt', 'k')
      await storage.write(key, 'gone.txt', 'g')
      await storage.write(key, 'tree/a/b.txt', 'b')
      await storage.write(key, 'tree/c.txt', 'c')
      await storage.remove(key, 'gone.txt')
      expect(await storage.stat(key, 'gone.txt')).toBeNull()
      await storage.remove(key, 'tree')
      expect(await storage.stat(key, 'tree')).toBeNull()
      expect(await storage.stat(key, 'tree/a/b.txt')).toBeNull()
      await storage.remove(key, 'never/was.txt')
      expect(await text(storage, key, 'keep.txt')).toBe('k')
      await storage.remove(key, '')
      expect(await storage.exists(key)).toBe(false)
    })

    it('counts usage as the bytes of its files, after writes, a replace and a remove', async () => {
      const { storage, key } = await open()
      expect(await storage.usage(key)).toBe(0)
      await storage.write(key, 'a.bin', Buffer.alloc(1000))
      await storage.write(key, 'sub/b.bin', Buffer.alloc(500))
      expect(await storage.usage(key)).toBe(1500)
      await storage.write(key, 'a.bin', Buffer.alloc(200))
      expect(await storage.usage(key)).toBe(700)
      await storage.remove(key, 'sub')
      expect(await storage.usage(key)).toBe(200)
    })

    it('refuses a write over the quota and keeps the old content; only growth counts; streams are cut off', async () => {
      const { storage, key } = await open(1000)
      await storage.write(key, 'a.bin', Buffer.alloc(600, 1))
      await storage.write(key, 'a.bin', Buffer.alloc(900, 2)) // growth 300: fits
      await expectCode(storage.write(key, 'b.bin', Buffer.alloc(200)), 'WORKSPACE_QUOTA_EXCEEDED')
      expect(await storage.stat(key, 'b.bin')).toBeNull()
      await expectCode(storage.write(key, 'a.bin', Buffer.alloc(1001, 3)), 'WORKSPACE_QUOTA_EXCEEDED')
      expect((await collect((await storage.read(key, 'a.bin')).body)).equals(Buffer.alloc(900, 2))).toBe(true)
      await expectCode(storage.write(key, 'c.bin', chunks(64, 16)), 'WORKSPACE_QUOTA_EXCEEDED')
      expect(await storage.stat(key, 'c.bin')).toBeNull()
      expect(await storage.usage(key)).toBe(900)
      await storage.write(key, 'a.bin', Buffer.alloc(100)) // shrinking always fits
      await storage.write(key, 'd.bin', chunks(10, 80)) // 800 more: 900 in all
      expect(await storage.usage(key)).toBe(900)
    })

    it('refuses paths with .., absolute, drive, NUL and control characters, with PATH_INVALID, everywhere', async () => {
      const { storage, key } = await open()
      await storage.write(key, 'inside.txt', 'x')
      const bad = [
        '../x',
        'a/../../x',
        '..\\x',
        'a\\..\\..\\x',
        '/etc/passwd',
        'C:\\x',
        '\\\\server\\share',
        'a\0b',
        'a\nb',
      ]
      for (const p of bad) {
        await expectCode(storage.stat(key, p), 'PATH_INVALID', p)
        await expectCode(storage.read(key, p), 'PATH_INVALID', p)
        await expectCode(storage.write(key, p, 'x'), 'PATH_INVALID', p)
        await expectCode(paths(storage.list(key, p)), 'PATH_INVALID', p)
        await expectCode(storage.remove(key, p), 'PATH_INVALID', p)
      }
      await expectCode(storage.write(key, '', 'x'), 'PATH_INVALID')
      await expectCode(storage.read(key, ''), 'PATH_INVALID')
      // A backslash is a separator, as on Windows; `.` segments and doubled slashes are dropped.
      await storage.write(key, 'win\\style.txt', 'w')
      expect(await text(storage, key, 'win/style.txt')).toBe('w')
      expect(await text(storage, key, './win//style.txt')).toBe('w')
      expect(await text(storage, key, 'inside.txt')).toBe('x')
    })

    it('keeps unicode names exactly (no normalisation), in list, stat and read', async () => {
      const { storage, key } = await open()
      const names = ['résumé 日本語 🎉.txt', 'e\u0301.txt', 'é.txt', 'папка/файл.md']
      for (const name of names) await storage.write(key, name, name)
      for (const name of names) expect(await text(storage, key, name)).toBe(name)
      const listed = await paths(storage.list(key))
      for (const name of names) expect(listed).toContain(name)
      expect(listed).toContain('папка')
    })

    it('writes a 20 MiB stream and reads it back byte for byte', async () => {
      const { storage, key } = await open()
      const hash = createHash('sha256')
      const chunkBytes = 256 * 1024
      const count = 80
      async function* source(): AsyncGenerator<Buffer> {
        for (let i = 0; i < count; i++) {
          const chunk = randomBytes(chunkBytes)
          hash.update(chunk)
          yield chunk
        }
      }
      const entry = await storage.write(key, 'big/stream.bin', Readable.from(source()))
      expect(entry.size).toBe(count * chunkBytes)
      const wanted = hash.digest('hex')
      const back = createHash('sha256')
      let size = 0
      for await (const chunk of (await storage.read(key, 'big/stream.bin')).body) {
        back.update(chunk as Buffer)
        size += (chunk as Buffer).length
      }
      expect(size).toBe(count * chunkBytes)
      expect(back.digest('hex')).toBe(wanted)
    }, 60_000)

    it('writes under a free name when asked, never replacing, also when writers race', async () => {
      const { storage, key } = await open()
      await storage.write(key, 'uploaded_files/a.txt', 'first')
      const second = await storage.write(key, 'uploaded_files/a.txt', 'second', { freeName: true })
      expect(second.path).toBe('uploaded_files/a_1.txt')
      expect(await text(storage, key, 'uploaded_files/a.txt')).toBe('first')
      const racing = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => storage.write(key, 'uploaded_files/r.txt', `writer ${i}`, { freeName: true })),
      )
      const saved = racing.map((entry) => entry.path)
      expect(new Set(saved).size).toBe(5)
      const contents = await Promise.all(saved.map((p) => text(storage, key, p)))
      expect(contents.sort()).toEqual([0, 1, 2, 3, 4].map((i) => `writer ${i}`))
    })

    it('refuses to write a file over a folder, and reading a folder', async () => {
      const { storage, key } = await open()
      await storage.write(key, 'dir/inner.txt', 'i')
      await expectCode(storage.write(key, 'dir', 'x'), 'PATH_IS_A_FOLDER')
      await expectCode(storage.read(key, 'dir'), 'PATH_INVALID')
      await expectCode(storage.read(key, 'missing.txt'), 'FILE_NOT_FOUND')
      expect(await text(storage, key, 'dir/inner.txt')).toBe('i')
    })

    it('hands out a local folder that holds the files, and sync() carries local changes back', async () => {
      const { storage, key } = await open()
      await storage.write(key, 'notes/a.md', '# a')
      const folder = await storage.localFolder(key)
      expect(await readFile(path.join(folder.dir, 'notes/a.md'), 'utf8')).toBe('# a')
      await mkdir(path.join(folder.dir, 'made-by-shell'), { recursive: true })
      await writeFile(path.join(folder.dir, 'made-by-shell/out.txt'), 'from the shell')
      await writeFile(path.join(folder.dir, 'notes/a.md'), '# a, edited')
      await folder.sync()
      expect(await text(storage, key, 'made-by-shell/out.txt')).toBe('from the shell')
      expect(await text(storage, key, 'notes/a.md')).toBe('# a, edited')
      await folder.release()
      expect(await text(storage, key, 'made-by-shell/out.txt')).toBe('from the shell')
    })

    it('finds a session by its id, or by the last segment of its stored folder when only that exists', async () => {
      const { storage, key } = await open()
      expect(await workspaceKey(storage, { id: key, workspaceDir: `/elsewhere/workspace/${key}` })).toBe(key)
      const id = randomUUID()
      const task = `task-${randomUUID().slice(0, 8)}`
      await storage.create(task)
      expect(await workspaceKey(storage, { id, workspaceDir: `/old/disk/workspace/${task}/` })).toBe(task)
      expect(await workspaceKey(storage, { id, workspaceDir: `C:\\old\\${task}` })).toBe(task)
      expect(await workspaceKey(storage, { id, workspaceDir: '/old/disk/workspace/..' })).toBe(id)
      expect(await workspaceKey(storage, { id, workspaceDir: null })).toBe(id)
      await storage.create(id)
      expect(await workspaceKey(storage, { id, workspaceDir: `/old/disk/workspace/${task}` })).toBe(id)
    })

    if (options.symlinks) {
      it('never follows a symlink out of the workspace: reported as a link, refused for reads and writes', async () => {
        const { storage, key } = await open()
        const outside = await mkdtemp(path.join(tmpdir(), 'berth-outside-'))
        try {
          await writeFile(path.join(outside, 'secret.txt'), 'secret')
          const folder = await storage.localFolder(key)
          await symlink(outside, path.join(folder.dir, 'out'))
          await symlink(path.join(outside, 'secret.txt'), path.join(folder.dir, 'secret-link'))
          await storage.write(key, 'real/inside.txt', 'inside')
          await symlink('real', path.join(folder.dir, 'in'))
          await folder.sync()

          expect((await storage.stat(key, 'out'))?.type).toBe('symlink')
          expect((await storage.stat(key, 'secret-link'))?.type).toBe('symlink')
          await expectCode(storage.stat(key, 'out/secret.txt'), 'PATH_OUTSIDE_WORKSPACE')
          await expectCode(storage.read(key, 'secret-link'), 'PATH_OUTSIDE_WORKSPACE')
          await expectCode(storage.read(key, 'out/secret.txt'), 'PATH_OUTSIDE_WORKSPACE')
          await expectCode(storage.write(key, 'out/new.txt', 'x'), 'PATH_OUTSIDE_WORKSPACE')
          await expectCode(storage.write(key, 'secret-link', 'x'), 'PATH_OUTSIDE_WORKSPACE')
          // Under a free name a link at the wanted name is a taken name, never written through.
          expect((await storage.write(key, 'secret-link', 'mine', { freeName: true })).path).toBe('secret-link_1')
          await expectCode(paths(storage.list(key, 'out')), 'PATH_OUTSIDE_WORKSPACE')
          const listed = await paths(storage.list(key))
          expect(listed).toContain('out')
          expect(listed.some((p) => p.startsWith('out/'))).toBe(false)
          // A link inside the workspace is followed.
          expect(await text(storage, key, 'in/inside.txt')).toBe('inside')
          expect((await storage.stat(key, 'in'))?.type).toBe('directory')
          // Removing the link removes the link, not what it points at; usage never counts what is outside.
          expect(await storage.usage(key)).toBe('inside'.length + 'mine'.length)
          await storage.remove(key, 'out')
          expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('secret')
        } finally {
          await rm(outside, { recursive: true, force: true })
        }
      })
    }
  })
}

/** A stream of `count` chunks of `size` bytes. */
function chunks(count: number, size: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < count; i++) yield Buffer.alloc(size, i)
    })(),
  )
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const part of stream) parts.push(part as Buffer)
  return Buffer.concat(parts)
}

async function text(storage: WorkspaceStorage, key: WorkspaceKey, p: string): Promise<string> {
  return (await collect((await storage.read(key, p)).body)).toString('utf8')
}

async function paths(entries: AsyncIterable<WorkspaceEntry>): Promise<string[]> {
  const out: string[] = []
  for await (const entry of entries) out.push(entry.path)
  return out
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode, what = ''): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(isBerthError(error, code), `${what}: expected ${code}, got ${String(error)}`).toBe(true)
}

import { randomFillSync } from 'node:crypto'
import { lstat, mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { type CopyRequest, copyFilesVerified, sameContent, syncFiles } from '../../src/transfer/copy-verified.js'
import { walkTree } from '../../src/transfer/tree-walk.js'
import { tempDir } from '../helpers/temp-dir.js'

/** Copy one file through the batch API; its error, if any, is thrown. */
async function copyOne(request: CopyRequest): Promise<{ size: number }> {
  const { copied, error } = await copyFilesVerified([request], { replace: false })
  if (error !== undefined) throw error
  return copied[0] as { size: number }
}

async function entryOf(dir: string, name: string) {
  const entry = (await walkTree(dir)).find((e) => e.path === name)
  if (!entry) throw new Error(`${name} not walked`)
  return entry
}

describe('verified file copies on the worker threads', () => {
  it('copies bytes, mode and times exactly, across several chunks', async () => {
    const dir = await tempDir()
    const data = randomFillSync(Buffer.alloc(3 * 1024 * 1024 + 17))
    await writeFile(join(dir, 'big.bin'), data, { mode: 0o640 })
    await utimes(join(dir, 'big.bin'), new Date('2024-02-03T04:05:06.789Z'), new Date('2023-01-02T03:04:05.678Z'))
    const entry = await entryOf(dir, 'big.bin')
    const result = await copyOne({ source: join(dir, 'big.bin'), target: join(dir, 'copy.bin'), expected: entry })
    expect(result.size).toBe(data.length)
    expect((await readFile(join(dir, 'copy.bin'))).equals(data)).toBe(true)
    const [source, copy] = await Promise.all([
      lstat(join(dir, 'big.bin'), { bigint: true }),
      lstat(join(dir, 'copy.bin'), { bigint: true }),
    ])
    expect(copy.mode & 0o7777n).toBe(0o640n)
    expect(copy.mtimeNs / 1000n).toBe(source.mtimeNs / 1000n)
    expect(await sameContent(join(dir, 'big.bin'), join(dir, 'copy.bin'))).toBe(true)
    await syncFiles([join(dir, 'copy.bin')])
  })

  it('refuses a source that changed since it was walked and leaves no copy behind', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'a.txt'), 'first')
    const entry = await entryOf(dir, 'a.txt')
    await writeFile(join(dir, 'a.txt'), 'second, longer')
    await expect(
      copyOne({ source: join(dir, 'a.txt'), target: join(dir, 'b.txt'), expected: entry }),
    ).rejects.toSatisfy((error) => isBerthError(error, 'SOURCE_CHANGED'))
    await expect(stat(join(dir, 'b.txt'))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('never overwrites an existing target', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'a.txt'), 'new')
    await writeFile(join(dir, 'b.txt'), 'keep me')
    const entry = await entryOf(dir, 'a.txt')
    await expect(
      copyOne({ source: join(dir, 'a.txt'), target: join(dir, 'b.txt'), expected: entry }),
    ).rejects.toMatchObject({ code: 'EEXIST' })
    expect(await readFile(join(dir, 'b.txt'), 'utf8')).toBe('keep me')
  })

  it('tells files with the same size but other bytes apart', async () => {
    const dir = await tempDir()
    const data = randomFillSync(Buffer.alloc(2 * 1024 * 1024))
    await writeFile(join(dir, 'a.bin'), data)
    data[data.length - 1] = (data[data.length - 1] as number) ^ 1
    await writeFile(join(dir, 'b.bin'), data)
    expect(await sameContent(join(dir, 'a.bin'), join(dir, 'b.bin'))).toBe(false)
    await writeFile(join(dir, 'c.bin'), data.subarray(1))
    expect(await sameContent(join(dir, 'b.bin'), join(dir, 'c.bin'))).toBe(false)
  })

  it('copies a batch in order, replacing leftovers, and stops at the first file that changed', async () => {
    const dir = await tempDir()
    for (const name of ['a', 'b', 'c', 'd']) await writeFile(join(dir, `${name}.txt`), `content of ${name}`)
    await writeFile(join(dir, 'a.copy'), 'left by an interrupted run, longer than the source')
    const entries = await Promise.all(['a', 'b', 'c', 'd'].map((name) => entryOf(dir, `${name}.txt`)))
    await writeFile(join(dir, 'c.txt'), 'changed after the walk')
    const requests = entries.map((entry) => ({
      source: join(dir, entry.path),
      target: join(dir, entry.path.replace('.txt', '.copy')),
      expected: entry,
    }))
    const { copied, error } = await copyFilesVerified(requests, { replace: true })
    expect(copied.map((c) => c.size)).toEqual([12, 12])
    expect(await readFile(join(dir, 'a.copy'), 'utf8')).toBe('content of a')
    expect(await readFile(join(dir, 'b.copy'), 'utf8')).toBe('content of b')
    expect(isBerthError(error, 'SOURCE_CHANGED')).toBe(true)
    expect((error as Error).message).toContain(join(dir, 'c.txt'))
    await expect(stat(join(dir, 'c.copy'))).rejects.toMatchObject({ code: 'ENOENT' })
    await expect(stat(join(dir, 'd.copy'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})

describe('walking a tree on a worker thread', () => {
  it('lists every entry sorted by path, with exact stats, and describes symlinks without following them', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'sub', 'deeper'), { recursive: true })
    await writeFile(join(dir, 'sub', 'deeper', 'é 日本.txt'), 'unicode')
    await writeFile(join(dir, 'b.bin'), Buffer.alloc(1000))
    await symlink('../../etc/passwd', join(dir, 'sub', 'out'))
    await symlink('sub', join(dir, 'a-link'))
    const entries = await walkTree(dir)
    expect(entries.map((e) => [e.path, e.type])).toEqual([
      ['', 'dir'],
      ['a-link', 'symlink'],
      ['b.bin', 'file'],
      ['sub', 'dir'],
      ['sub/deeper', 'dir'],
      ['sub/deeper/é 日本.txt', 'file'],
      ['sub/out', 'symlink'],
    ])
    const file = entries.find((e) => e.path === 'b.bin')
    const stats = await lstat(join(dir, 'b.bin'), { bigint: true })
    expect(file).toMatchObject({ size: 1000, ino: stats.ino, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs })
    expect(entries.find((e) => e.path === 'sub/out')?.target).toBe('../../etc/passwd')
  })

  it('fails with the system code when the root is missing', async () => {
    const dir = await tempDir()
    await expect(walkTree(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})

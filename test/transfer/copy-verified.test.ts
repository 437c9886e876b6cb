import { randomFillSync } from 'node:crypto'
import { lstat, readFile, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { copyFileVerified, sameContent, syncFiles } from '../../src/transfer/copy-verified.js'
import { walkTree } from '../../src/transfer/tree-walk.js'
import { tempDir } from '../helpers/temp-dir.js'

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
    const result = await copyFileVerified(join(dir, 'big.bin'), join(dir, 'copy.bin'), entry, { sync: true })
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
    await expect(copyFileVerified(join(dir, 'a.txt'), join(dir, 'b.txt'), entry, { sync: false })).rejects.toSatisfy(
      (error) => isBerthError(error, 'SOURCE_CHANGED'),
    )
    await expect(stat(join(dir, 'b.txt'))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('never overwrites an existing target', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'a.txt'), 'new')
    await writeFile(join(dir, 'b.txt'), 'keep me')
    const entry = await entryOf(dir, 'a.txt')
    await expect(
      copyFileVerified(join(dir, 'a.txt'), join(dir, 'b.txt'), entry, { sync: false }),
    ).rejects.toMatchObject({
      code: 'EEXIST',
    })
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
})

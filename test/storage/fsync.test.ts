import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { syncFileSystem } from '../../src/core/fsync.js'
import { tempDir } from '../helpers/temp-dir.js'

const path = process.env.PATH

afterEach(() => {
  process.env.PATH = path
})

describe('syncFileSystem', () => {
  it.runIf(process.platform === 'linux')('flushes the file system of a folder in one call', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'a.txt'), 'data')
    expect(await syncFileSystem(dir)).toBe(true)
  })

  it('says so, rather than failing, where `sync -f` cannot run, so the caller falls back', async () => {
    const dir = await tempDir()
    process.env.PATH = dir
    expect(await syncFileSystem(dir)).toBe(false)
  })

  it('says so for a folder that does not exist', async () => {
    const dir = await tempDir()
    expect(await syncFileSystem(join(dir, 'missing'))).toBe(false)
  })
})

import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FileSystemFlusher, syncFileSystem } from '../../src/core/fsync.js'
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

describe('FileSystemFlusher', () => {
  /** A stand-in for syncfs whose calls finish when the test says so. */
  function controlledSync() {
    const calls: { dir: string; finish: (ok: boolean) => void }[] = []
    const sync = (dir: string) => new Promise<boolean>((resolve) => calls.push({ dir, finish: resolve }))
    return { calls, sync }
  }

  it('runs one flush for callers that arrive while another runs, and never lets a late caller share an early flush', async () => {
    const { calls, sync } = controlledSync()
    const flusher = new FileSystemFlusher('/staging', sync)
    const first = flusher.flush()
    expect(calls).toHaveLength(1)
    // These arrive while the first flush runs: it may have begun before their writes.
    const second = flusher.flush()
    const third = flusher.flush()
    expect(calls).toHaveLength(1)
    calls[0]?.finish(true)
    expect(await first).toBe(true)
    await Promise.resolve()
    expect(calls).toHaveLength(2)
    expect(calls[1]?.dir).toBe('/staging')
    calls[1]?.finish(true)
    expect(await Promise.all([second, third])).toEqual([true, true])
    // Idle again: the next caller starts a flush of its own at once.
    const fourth = flusher.flush()
    expect(calls).toHaveLength(3)
    calls[2]?.finish(false)
    expect(await fourth).toBe(false)
  })
})

import { open, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { runMigration } from '../../src/migrate/migrate.js'
import { tryMount, unmount } from '../helpers/mount.js'
import { tempDir } from '../helpers/temp-dir.js'
import { buildBerthRoot, S_LONG, skipDatabase, snapshotTree } from './fixtures/data-trees.js'
import { startTransferCli } from './fixtures/transfer-cli-process.js'

const mounted: string[] = []

afterEach(() => {
  for (const dir of mounted.splice(0)) unmount(dir)
})

/** A 40 MiB tmpfs for the target, or null (with the reason printed) where mounting is not allowed. */
async function smallDisk(): Promise<string | null> {
  const dir = join(await tempDir(), 'disk')
  if (!tryMount(dir, 'size=40m')) {
    console.warn('SKIPPED: cannot mount a tmpfs here (needs root on Linux); the disk-full tests did not run')
    return null
  }
  mounted.push(dir)
  return dir
}

/** Fill the disk holding `dir` until it refuses, leaving `keep` bytes free. */
async function fill(file: string, keep = 0): Promise<void> {
  const { statfs } = await import('node:fs/promises')
  const handle = await open(file, 'w')
  const chunk = Buffer.alloc(1024 * 1024)
  try {
    for (;;) {
      const s = await statfs(join(file, '..'))
      const free = s.bavail * s.bsize - keep
      if (free <= 0) break
      await handle.write(chunk, 0, Math.min(chunk.length, free))
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    await handle.close()
  }
}

describe('berth migrate on a target that fills up', () => {
  it('refuses up front when the plan does not fit', async () => {
    const disk = await smallDisk()
    if (disk === null) return
    const source = await tempDir()
    await buildBerthRoot(source)
    await writeFile(join(source, 'workspace', S_LONG, 'big.bin'), Buffer.alloc(4 * 1024 * 1024, 1))
    await fill(join(disk, 'ballast'), 10 * 1024 * 1024)
    const child = startTransferCli(['migrate', '--from', source, '--to', join(disk, 'data')], { cwd: source })
    expect(await child.exited).toBe(1)
    expect(child.output().stderr).toMatch(/refused: Not enough free space on the target .* Nothing was copied/)
    expect(await readdir(join(disk, 'data', 'workspace')).catch(() => [])).toEqual([])
  })

  it('stops cleanly with a clear message when the disk fills mid-copy, and resumes once space is freed', async () => {
    const disk = await smallDisk()
    if (disk === null) return
    const source = await tempDir()
    await buildBerthRoot(source)
    await writeFile(join(source, 'workspace', S_LONG, 'big.bin'), Buffer.alloc(4 * 1024 * 1024, 1))
    const target = join(disk, 'data')
    let filled = false
    const error = await runMigration({
      from: source,
      to: target,
      onStep: async (step) => {
        if (step === 'file-copied' && !filled) {
          filled = true
          await fill(join(disk, 'ballast'))
        }
      },
    }).catch((e: unknown) => e)
    expect(isBerthError(error, 'DISK_FULL')).toBe(true)
    expect((error as Error).message).toMatch(/disk is full/)
    // Nothing half-done is in place: each folder under workspace/ is either complete or absent.
    for (const name of await readdir(join(target, 'workspace')).catch(() => [] as string[])) {
      expect(await snapshotTree(join(target, 'workspace', name))).toEqual(
        await snapshotTree(join(source, 'workspace', name)),
      )
    }

    await rm(join(disk, 'ballast'))
    const report = await runMigration({ from: source, to: target })
    expect(report.status).toBe('done')
    const copied = await snapshotTree(target, { skip: skipDatabase })
    const original = await snapshotTree(source, { skip: skipDatabase })
    for (const key of Object.keys(original)) {
      if (key.startsWith('workspace/') || key.startsWith('shares')) expect(copied[key]).toBe(original[key])
    }
    expect(await readdir(target)).not.toContain('.berth-migrate')
  })
})

import type { Dirent } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { isGone, lstatOrNull } from './fs-errors.js'

/**
 * Apparent size in bytes of every regular file under `dir`, walking with
 * lstat semantics: symlinks are not followed, so a link to `/` costs nothing
 * and cannot loop. Entries that vanish during the walk are skipped.
 *
 * @example
 *   await diskUsage('/data/workspace/abc') // 1048576
 */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0
  const pending = [dir]
  while (pending.length > 0) {
    const current = pending.pop() as string
    const entries = await readdirOrEmpty(current)
    const sizes = await Promise.all(
      entries.map(async (entry) => {
        const full = path.join(current, entry.name)
        if (entry.isDirectory()) {
          pending.push(full)
          return 0
        }
        if (!entry.isFile()) return 0
        return (await lstatOrNull(full))?.size ?? 0
      }),
    )
    for (const size of sizes) total += size
  }
  return total
}

async function readdirOrEmpty(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true })
  } catch (err) {
    if (isGone(err)) return []
    throw err
  }
}

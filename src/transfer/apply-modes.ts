import { chmod, lutimes } from 'node:fs/promises'
import path from 'node:path'

/** What an archive recorded about an entry's permissions and time. */
export interface EntryTimes {
  path: string
  type: 'file' | 'dir' | 'symlink'
  mode?: number
  /** Modification time in whole microseconds since the epoch. */
  mtimeUs: number
}

/**
 * Give unpacked entries (below `base`) the modes and times their archive
 * recorded. Deepest first, so setting a folder's time is not undone by what
 * is created inside it; symlinks get a time only (their mode means nothing).
 *
 * @example
 *   await applyModesAndTimes(stagingDir, manifest.entries)
 */
export async function applyModesAndTimes(base: string, entries: readonly EntryTimes[]): Promise<void> {
  const ordered = [...entries].sort((a, b) => (a.path < b.path ? 1 : a.path > b.path ? -1 : 0))
  for (const entry of ordered) {
    const target = path.join(base, entry.path)
    if (entry.type !== 'symlink' && entry.mode !== undefined) await chmod(target, entry.mode)
    // utimes takes a double and truncates: aim at the middle of the microsecond to land on it exactly.
    const seconds = (entry.mtimeUs + 0.5) / 1e6
    await lutimes(target, seconds, seconds).catch(() => undefined)
  }
}

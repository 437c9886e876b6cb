import type { BigIntStats } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import path from 'node:path'

export type TreeEntryType = 'file' | 'dir' | 'symlink' | 'other'

/** One entry of a tree as `lstat` saw it: symlinks are described, never followed. */
export interface TreeEntry {
  /** POSIX path relative to the walked root; `''` is the root itself. */
  path: string
  type: TreeEntryType
  /** Bytes of a regular file; 0 for anything else. */
  size: number
  /** Permission bits (`mode & 0o7777`). */
  mode: number
  uid: number
  gid: number
  /** Exact times and inode: what "unchanged since" is judged by. */
  atimeNs: bigint
  mtimeNs: bigint
  ctimeNs: bigint
  ino: bigint
  /** The link text of a symlink, as stored (may point anywhere). */
  target?: string
}

/**
 * Describe `root` and everything below it, sorted by path, with lstat
 * semantics: a symlink is an entry with its link text, never a way out of
 * the tree. `skip` leaves out an entry (and, for a folder, all below it).
 *
 * @example
 *   const entries = await walkTree('/var/data/workspace/abc')
 *   entries[0] // { path: '', type: 'dir', ... }
 */
export async function walkTree(
  root: string,
  options: { skip?: (relative: string) => boolean } = {},
): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [describe('', await lstat(root, { bigint: true }))]
  if (entries[0]?.type === 'symlink') (entries[0] as TreeEntry).target = await readlink(root)
  if (entries[0]?.type !== 'dir') return entries
  const pending = ['']
  while (pending.length > 0) {
    const dir = pending.pop() as string
    const names = await readdir(path.join(root, dir))
    const found = await Promise.all(
      names.map(async (name) => {
        const relative = dir === '' ? name : `${dir}/${name}`
        if (options.skip?.(relative)) return null
        const full = path.join(root, relative)
        const entry = describe(relative, await lstat(full, { bigint: true }))
        if (entry.type === 'symlink') entry.target = await readlink(full)
        return entry
      }),
    )
    for (const entry of found) {
      if (entry === null) continue
      entries.push(entry)
      if (entry.type === 'dir') pending.push(entry.path)
    }
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** Bytes held by the regular files of a walked tree. */
export function treeBytes(entries: readonly TreeEntry[]): number {
  return entries.reduce((sum, entry) => sum + entry.size, 0)
}

/** Same path, type, size, link text, times and inode: nothing suggests the content changed. */
export function sameStat(a: TreeEntry, b: TreeEntry): boolean {
  return (
    a.path === b.path &&
    a.type === b.type &&
    a.size === b.size &&
    a.target === b.target &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.ino === b.ino
  )
}

function describe(relative: string, stats: BigIntStats): TreeEntry {
  const type: TreeEntryType = stats.isFile()
    ? 'file'
    : stats.isDirectory()
      ? 'dir'
      : stats.isSymbolicLink()
        ? 'symlink'
        : 'other'
  return {
    path: relative,
    type,
    size: type === 'file' ? Number(stats.size) : 0,
    mode: Number(stats.mode) & 0o7777,
    uid: Number(stats.uid),
    gid: Number(stats.gid),
    atimeNs: stats.atimeNs,
    mtimeNs: stats.mtimeNs,
    ctimeNs: stats.ctimeNs,
    ino: stats.ino,
  }
}

import { runFileJob } from './file-workers.js'

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
 * the tree. Walked with synchronous calls on a file worker thread: one
 * message for the whole tree instead of a round trip through libuv per entry
 * (44 ms against 60–130 ms for 3,600 entries here).
 *
 * @example
 *   const entries = await walkTree('/var/data/workspace/abc')
 *   entries[0] // { path: '', type: 'dir', ... }
 */
export function walkTree(root: string): Promise<TreeEntry[]> {
  return runFileJob({ kind: 'walk', root })
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

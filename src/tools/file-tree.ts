import type { Dirent } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'

export interface TreeEntry {
  /** Relative to the listed folder, POSIX separators; folders end with `/`. */
  path: string
  kind: 'file' | 'dir' | 'symlink' | 'other'
  /** Bytes, for regular files. */
  size?: number
}

export interface TreeListing {
  entries: TreeEntry[]
  /** True when `maxEntries` cut the listing short. */
  truncated: boolean
}

/**
 * List a folder breadth-first down to `depth` levels, sorted by name within
 * each folder, skipping hidden entries (dot files and dot folders). Symlinks
 * are listed, never followed, so a link cannot lead the walk out of the
 * workspace. Stops after `maxEntries`.
 *
 * @example
 *   await listTree('/data/workspace/abc', { depth: 2, maxEntries: 500 })
 *   // { entries: [{ path: 'site/', kind: 'dir' }, { path: 'site/index.html', kind: 'file', size: 120 }], truncated: false }
 */
export async function listTree(dir: string, opts: { depth: number; maxEntries: number }): Promise<TreeListing> {
  const entries: TreeEntry[] = []
  let level: string[] = ['']
  for (let d = 1; d <= opts.depth && level.length > 0; d++) {
    const next: string[] = []
    for (const rel of level) {
      let children: Dirent[]
      try {
        children = await readdir(path.join(dir, rel), { withFileTypes: true })
      } catch {
        continue // vanished or unreadable: list what can be listed
      }
      children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      for (const child of children) {
        if (child.name.startsWith('.')) continue
        if (entries.length >= opts.maxEntries) return { entries, truncated: true }
        const childRel = rel === '' ? child.name : `${rel}/${child.name}`
        if (child.isDirectory()) {
          entries.push({ path: `${childRel}/`, kind: 'dir' })
          next.push(childRel)
        } else if (child.isFile()) {
          const size = await stat(path.join(dir, childRel)).then(
            (s) => s.size,
            () => undefined,
          )
          entries.push(size === undefined ? { path: childRel, kind: 'file' } : { path: childRel, kind: 'file', size })
        } else {
          entries.push({ path: childRel, kind: child.isSymbolicLink() ? 'symlink' : 'other' })
        }
      }
    }
    level = next
  }
  return { entries, truncated: false }
}

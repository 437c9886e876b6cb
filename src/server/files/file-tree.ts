import { BerthError } from '../../core/errors.js'
import type { WorkspaceEntry, WorkspaceKey, WorkspaceStorage } from '../../workspace/workspace-storage.js'
import { languageOf } from './language.js'

/** One entry of `POST /api/files/list`, in the reference's shape plus `size` and `partial`. */
export interface FileNode {
  name: string
  type: 'file' | 'folder'
  /** Relative to the workspace, POSIX separators. */
  path: string
  language: string
  /** Bytes, for files. */
  size?: number
  /** Folders only: the entries inside, when listed. */
  children?: FileNode[]
  /** Folders only: true when `children` was not listed (depth or entry limit, or a linked folder); ask for this path. */
  partial?: boolean
}

export interface TreeOptions {
  /** Stop after this many entries in all (default 10,000) so a huge tree cannot stall a request. */
  maxEntries?: number
}

export const MAX_TREE_DEPTH = 10

/**
 * The file tree of a session's workspace (or a folder in it) as the reference
 * UI expects it: recursive down to `depth` levels (1 lists one folder, for
 * lazy loading; at most 10), folders first then by name, hidden entries left
 * out. Symlinks are never followed out of the workspace: a link whose real
 * path leaves it is not listed, a link to a folder inside is listed but not
 * entered.
 *
 * @example
 *   const { files } = await listTree(storage, key, 'site', 1)
 *   // [{ name: 'css', type: 'folder', path: 'site/css', language: 'plaintext', children: [], partial: true }, ...]
 */
export async function listTree(
  storage: WorkspaceStorage,
  key: WorkspaceKey,
  relative: string,
  depth: number,
  options: TreeOptions = {},
): Promise<{ files: FileNode[]; truncated: boolean }> {
  const start = await storage.stat(key, relative)
  if (start === null) throw new BerthError('FILE_NOT_FOUND', `No such folder: ${relative}`)
  if (start.type !== 'directory') throw new BerthError('PATH_INVALID', `Not a folder: ${relative}`)
  const walker = new TreeWalker(storage, key, options.maxEntries ?? 10_000)
  const files = await walker.list(start.path, clampDepth(depth))
  return { files, truncated: walker.truncated }
}

function clampDepth(depth: number): number {
  return Number.isInteger(depth) ? Math.min(Math.max(depth, 1), MAX_TREE_DEPTH) : MAX_TREE_DEPTH
}

class TreeWalker {
  truncated = false
  private budget: number

  constructor(
    private readonly storage: WorkspaceStorage,
    private readonly key: WorkspaceKey,
    maxEntries: number,
  ) {
    this.budget = maxEntries
  }

  /** One folder's entries (a list call per folder, so hidden folders are never walked). */
  async list(folder: string, depth: number): Promise<FileNode[]> {
    const nodes: FileNode[] = []
    try {
      for await (const entry of this.storage.list(this.key, folder, { depth: 1 })) {
        const name = entry.path.slice(entry.path.lastIndexOf('/') + 1)
        if (name.startsWith('.')) continue
        if (this.budget <= 0) {
          this.truncated = true
          break
        }
        this.budget--
        const node = await this.nodeOf(entry, name, depth)
        if (node) nodes.push(node)
      }
    } catch {
      // vanished or unreadable: list what could be listed
    }
    return nodes.sort(compareNodes)
  }

  private async nodeOf(entry: WorkspaceEntry, name: string, depth: number): Promise<FileNode | null> {
    const base = { name, path: entry.path, language: languageOf(name) }
    if (entry.type === 'directory') {
      if (depth <= 1) return { ...base, type: 'folder', children: [], partial: true }
      const children = await this.list(entry.path, depth - 1)
      return { ...base, type: 'folder', children }
    }
    if (entry.type === 'file') return { ...base, type: 'file', size: entry.size }
    return this.linkNode(base)
  }

  /** A symlink is shown as what it points at, only when that lies inside the workspace. */
  private async linkNode(base: Omit<FileNode, 'type'>): Promise<FileNode | null> {
    const target = await this.storage.stat(this.key, base.path).catch(() => null)
    if (target?.type === 'directory') return { ...base, type: 'folder', children: [], partial: true }
    return target?.type === 'file' ? { ...base, type: 'file', size: target.size } : null
  }
}

function compareNodes(a: FileNode, b: FileNode): number {
  if (a.type !== b.type) return a.type === 'folder' ? -1 : 1
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

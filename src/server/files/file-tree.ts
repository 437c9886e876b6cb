import type { Dirent } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { BerthError } from '../../core/errors.js'
import type { Workspaces } from '../../workspace/workspaces.js'
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
  /** The session's stored `workspace_dir` (the workspace module's fallback for GAIA folders). */
  storedDir?: string | null
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
 *   const { files } = await listTree(workspaces, sessionId, 'site', 1)
 *   // [{ name: 'css', type: 'folder', path: 'site/css', language: 'plaintext', children: [], partial: true }, ...]
 */
export async function listTree(
  workspaces: Workspaces,
  sessionId: string,
  relative: string,
  depth: number,
  options: TreeOptions = {},
): Promise<{ files: FileNode[]; truncated: boolean }> {
  const storedDir = options.storedDir ?? null
  const start = await workspaces.resolve(sessionId, relative, { allowRoot: true, storedDir })
  const root = await workspaces.resolve(sessionId, '', { allowRoot: true, storedDir })
  const info = await stat(start).catch(() => null)
  if (info === null) throw new BerthError('FILE_NOT_FOUND', `No such folder: ${relative}`)
  if (!info.isDirectory()) throw new BerthError('PATH_INVALID', `Not a folder: ${relative}`)

  const walker = new TreeWalker(workspaces, sessionId, root, storedDir, options.maxEntries ?? 10_000)
  const files = await walker.list(path.relative(root, start).split(path.sep).join('/'), clampDepth(depth))
  return { files, truncated: walker.truncated }
}

function clampDepth(depth: number): number {
  return Number.isInteger(depth) ? Math.min(Math.max(depth, 1), MAX_TREE_DEPTH) : MAX_TREE_DEPTH
}

class TreeWalker {
  truncated = false
  private budget: number

  constructor(
    private readonly workspaces: Workspaces,
    private readonly sessionId: string,
    private readonly root: string,
    private readonly storedDir: string | null,
    maxEntries: number,
  ) {
    this.budget = maxEntries
  }

  async list(folder: string, depth: number): Promise<FileNode[]> {
    let entries: Dirent[]
    try {
      entries = await readdir(path.join(this.root, folder), { withFileTypes: true })
    } catch {
      return [] // vanished or unreadable: list what can be listed
    }
    const visible = entries.filter((entry) => !entry.name.startsWith('.'))
    const nodes: FileNode[] = []
    for (const entry of visible) {
      if (this.budget <= 0) {
        this.truncated = true
        break
      }
      this.budget--
      const node = await this.nodeOf(entry, folder === '' ? entry.name : `${folder}/${entry.name}`, depth)
      if (node) nodes.push(node)
    }
    return nodes.sort(compareNodes)
  }

  private async nodeOf(entry: Dirent, rel: string, depth: number): Promise<FileNode | null> {
    const base = { name: entry.name, path: rel, language: languageOf(entry.name) }
    if (entry.isDirectory()) {
      if (depth <= 1) return { ...base, type: 'folder', children: [], partial: true }
      const children = await this.list(rel, depth - 1)
      return { ...base, type: 'folder', children }
    }
    if (entry.isFile()) {
      const size = await stat(path.join(this.root, rel)).then(
        (s) => s.size,
        () => undefined,
      )
      return size === undefined ? { ...base, type: 'file' } : { ...base, type: 'file', size }
    }
    if (!entry.isSymbolicLink()) return null // sockets, fifos, devices: nothing a user can open
    return this.linkNode(base, rel)
  }

  /** A symlink is shown as what it points at, only when that lies inside the workspace. */
  private async linkNode(base: Omit<FileNode, 'type'>, rel: string): Promise<FileNode | null> {
    try {
      const target = await this.workspaces.resolve(this.sessionId, rel, { storedDir: this.storedDir })
      const info = await stat(target)
      if (info.isDirectory()) return { ...base, type: 'folder', children: [], partial: true }
      return info.isFile() ? { ...base, type: 'file', size: info.size } : null
    } catch {
      return null // dangling, or leads out of the workspace
    }
  }
}

function compareNodes(a: FileNode, b: FileNode): number {
  if (a.type !== b.type) return a.type === 'folder' ? -1 : 1
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

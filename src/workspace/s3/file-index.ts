import type { WorkspaceKey } from '../workspace-storage.js'

/**
 * What the database knows of each file of a remote workspace: the quota is
 * summed from it (no walk over the bucket), `localFolder().sync()` compares
 * with it, and its `epoch` fences off a run owner that lost its lease.
 * Objects in the bucket stay the truth for content; the index follows every
 * write and remove made through berth.
 */
export interface IndexedFile {
  /** Workspace-relative, `/`-separated. */
  path: string
  size: number
  /** Hex SHA-256 of the content. */
  sha256: string
  /** The object's ETag, quoted. */
  etag: string
  /** Lease epoch of the run that wrote it (0: written outside a run). */
  epoch: number
  mtimeMs: number
}

export interface WorkspaceFileIndex {
  get(key: WorkspaceKey, path: string): Promise<IndexedFile | null>
  /**
   * Records a file unless the index holds it from a newer epoch; false when
   * refused (a newer owner wrote it).
   */
  put(key: WorkspaceKey, file: IndexedFile): Promise<boolean>
  /** Forgets `path` and everything below it ('' for the whole workspace). */
  remove(key: WorkspaceKey, path: string): Promise<void>
  /** The files at or below `path` ('' for all), in no particular order. */
  list(key: WorkspaceKey, path?: string): Promise<IndexedFile[]>
  /** Sum of the sizes of the workspace's files. */
  usage(key: WorkspaceKey): Promise<number>
  /** Across every workspace: how many hold at least one file, and their files' bytes. */
  totals(): Promise<{ workspaces: number; bytes: number }>
}

/** True when `candidate` is `path` itself or lies below it ('' holds everything). */
export function isAtOrBelow(path: string, candidate: string): boolean {
  return path === '' || candidate === path || candidate.startsWith(`${path}/`)
}

/** An index in memory: for one process without a database, and for tests. */
export class MemoryFileIndex implements WorkspaceFileIndex {
  private readonly files = new Map<WorkspaceKey, Map<string, IndexedFile>>()

  async get(key: WorkspaceKey, path: string): Promise<IndexedFile | null> {
    return this.files.get(key)?.get(path) ?? null
  }

  async put(key: WorkspaceKey, file: IndexedFile): Promise<boolean> {
    let workspace = this.files.get(key)
    if (!workspace) {
      workspace = new Map()
      this.files.set(key, workspace)
    }
    const current = workspace.get(file.path)
    if (current && current.epoch > file.epoch) return false
    workspace.set(file.path, { ...file })
    return true
  }

  async remove(key: WorkspaceKey, path: string): Promise<void> {
    const workspace = this.files.get(key)
    if (!workspace) return
    for (const name of [...workspace.keys()]) if (isAtOrBelow(path, name)) workspace.delete(name)
  }

  async list(key: WorkspaceKey, path = ''): Promise<IndexedFile[]> {
    return [...(this.files.get(key)?.values() ?? [])].filter((file) => isAtOrBelow(path, file.path))
  }

  async usage(key: WorkspaceKey): Promise<number> {
    let total = 0
    for (const file of this.files.get(key)?.values() ?? []) total += file.size
    return total
  }

  async totals(): Promise<{ workspaces: number; bytes: number }> {
    let workspaces = 0
    let bytes = 0
    for (const key of this.files.keys()) {
      const used = await this.usage(key)
      if ((this.files.get(key)?.size ?? 0) > 0) workspaces++
      bytes += used
    }
    return { workspaces, bytes }
  }
}

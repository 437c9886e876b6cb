import type { Dirent } from 'node:fs'
import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { isDirectory, isGone } from './fs-errors.js'
import { type LocalStorageOptions, LocalWorkspaceStorage, WORKSPACE_SUBDIRS } from './local-storage.js'
import { storedFolderName } from './workspace-storage.js'

export type WorkspaceOptions = LocalStorageOptions
export { WORKSPACE_SUBDIRS }

/**
 * Per-session folders under one root, by session id: the local disk's side
 * of the workspace, for what needs real paths (the tools, the shell, doctor,
 * prune). File operations delegate to `storage`, the `LocalWorkspaceStorage`
 * that implements the `WorkspaceStorage` interface; every path goes through
 * `resolve`, which goes through `resolveInside`.
 *
 * @example
 *   const workspaces = new Workspaces({ root: '/var/data/workspace', quotaBytes: 1024 ** 3 })
 *   await workspaces.create(sessionId)
 *   await workspaces.writeFile(sessionId, 'notes/todo.md', '- [ ] ship\n')
 */
export class Workspaces {
  readonly storage: LocalWorkspaceStorage
  readonly root: string
  readonly quotaBytes: number | null

  constructor(opts: WorkspaceOptions) {
    this.storage = new LocalWorkspaceStorage(opts)
    this.root = this.storage.root
    this.quotaBytes = this.storage.quotaBytes
  }

  /**
   * The folder of a session under the current root: `<root>/<sessionId>`.
   * A stored `workspace_dir` is never used as a path (it may name another
   * machine's disk, or be hostile); only its last segment is tried, when
   * `<root>/<sessionId>` is missing, because GAIA folders are named after
   * the task rather than the session (`workspaceKey` in workspace-storage.ts
   * is the same rule for any backend).
   *
   * @example
   *   workspaces.dirFor('abc', '/old/disk/workspace/task-1') // '<root>/abc', or '<root>/task-1' if only that exists
   */
  dirFor(sessionId: string, storedDir?: string | null): string {
    const primary = this.storage.folderOf(sessionId)
    if (storedDir == null || existsSync(primary)) return primary
    const storedName = storedFolderName(storedDir)
    if (storedName === null) return primary
    const fallback = path.join(this.root, storedName)
    return existsSync(fallback) ? fallback : primary
  }

  /**
   * Create `<root>/<id>/` with `uploaded_files/` and `agent_memory/`. Safe to
   * call again on an existing workspace.
   *
   * @example
   *   const dir = await workspaces.create(sessionId)
   */
  async create(sessionId: string): Promise<string> {
    await this.storage.create(sessionId)
    return this.storage.folderOf(sessionId)
  }

  /** @example if (!(await workspaces.exists(id, row.workspace_dir))) ... */
  async exists(sessionId: string, storedDir?: string | null): Promise<boolean> {
    return isDirectory(this.dirFor(sessionId, storedDir))
  }

  /**
   * Resolve a client or tool path inside a session's workspace (see
   * `resolveInside`). `WORKSPACE_NOT_FOUND` (404) when the folder is missing.
   *
   * @example
   *   await workspaces.resolve(id, 'uploaded_files/a.pdf') // '<root>/<id>/uploaded_files/a.pdf'
   *   await workspaces.resolve(id, '', { allowRoot: true }) // '<root>/<id>'
   */
  async resolve(
    sessionId: string,
    relative: string,
    opts: { allowRoot?: boolean; storedDir?: string | null } = {},
  ): Promise<string> {
    return this.storage.resolve(this.keyOf(sessionId, opts.storedDir), relative, opts)
  }

  /**
   * Bytes used by a workspace: the apparent size of its regular files.
   * Symlinks are not followed.
   *
   * @example
   *   await workspaces.usage(id) // 52_428_800
   */
  async usage(sessionId: string): Promise<number> {
    return this.storage.usage(sessionId)
  }

  /**
   * Refuse, with `WORKSPACE_QUOTA_EXCEEDED` (413), a write of `incomingBytes`
   * that would take the workspace over its quota. No-op without a quota.
   *
   * @example
   *   await workspaces.assertQuota(id, upload.byteLength)
   */
  async assertQuota(sessionId: string, incomingBytes: number): Promise<void> {
    return this.storage.assertQuota(sessionId, incomingBytes)
  }

  /**
   * Write a file atomically inside a workspace, creating parent folders.
   * Checks containment and quota first; replacing a file only counts the
   * growth against the quota. Returns the absolute path.
   *
   * @example
   *   await workspaces.writeFile(id, 'site/index.html', '<h1>Hi</h1>')
   */
  async writeFile(sessionId: string, relative: string, data: Uint8Array | string): Promise<string> {
    const entry = await this.storage.write(sessionId, relative, data)
    return path.join(this.storage.folderOf(sessionId), entry.path)
  }
  /**
   * Names of the folders under the root, sorted, whether or not they look
   * like session ids (so `doctor` can report strays as orphans too).
   *
   * @example
   *   await workspaces.list() // ['3f2b8c9e-...', 'task-17']
   */
  async list(): Promise<string[]> {
    let entries: Dirent[]
    try {
      entries = await readdir(this.root, { withFileTypes: true })
    } catch (err) {
      if (isGone(err)) return []
      throw err
    }
    const names: string[] = []
    for (const entry of entries) {
      if (entry.isDirectory()) names.push(entry.name)
      else if (entry.isSymbolicLink() && (await isDirectory(path.join(this.root, entry.name)))) names.push(entry.name)
    }
    return names.sort()
  }

  /**
   * Delete a session's folder and everything in it. Only ever called on an
   * explicit user request (invariant 5). Symlinks inside are removed, never
   * followed; a missing folder is not an error.
   *
   * @example
   *   await workspaces.remove(id)
   */
  async remove(sessionId: string, storedDir?: string | null): Promise<void> {
    await this.storage.remove(this.keyOf(sessionId, storedDir), '')
  }

  /** The key (folder name) of a session's workspace: the last segment of `dirFor`. */
  private keyOf(sessionId: string, storedDir?: string | null): string {
    return storedDir == null ? sessionId : path.basename(this.dirFor(sessionId, storedDir))
  }
}

import type { Dirent } from 'node:fs'
import { existsSync } from 'node:fs'
import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { BerthError } from '../core/errors.js'
import { formatBytes } from '../core/format-bytes.js'
import { writeFileAtomic } from './atomic-write.js'
import { isValidSessionId, resolveInside } from './containment.js'
import { diskUsage } from './disk-usage.js'
import { isGone, lstatOrNull } from './fs-errors.js'

export interface WorkspaceOptions {
  /** `<dataRoot>/workspace`: one folder per session below it. */
  root: string
  /** Size limit of one workspace in bytes; `null` for none. */
  quotaBytes: number | null
}

/** The folders every workspace starts with, as in the reference system. */
export const WORKSPACE_SUBDIRS = ['uploaded_files', 'agent_memory'] as const

/**
 * Per-session folders under one root. The only place in berth that touches
 * user files: every path goes through `resolve`, which goes through
 * `resolveInside`.
 *
 * @example
 *   const workspaces = new Workspaces({ root: '/var/data/workspace', quotaBytes: 1024 ** 3 })
 *   await workspaces.create(sessionId)
 *   await workspaces.writeFile(sessionId, 'notes/todo.md', '- [ ] ship\n')
 */
export class Workspaces {
  readonly root: string
  readonly quotaBytes: number | null

  constructor(opts: WorkspaceOptions) {
    this.root = path.resolve(opts.root)
    this.quotaBytes = opts.quotaBytes
  }

  /**
   * The folder of a session under the current root: `<root>/<sessionId>`.
   * A stored `workspace_dir` is never used as a path (it may name another
   * machine's disk, or be hostile); only its last segment is tried, when
   * `<root>/<sessionId>` is missing, because GAIA folders are named after the
   * task rather than the session.
   *
   * @example
   *   workspaces.dirFor('abc', '/old/disk/workspace/task-1') // '<root>/abc', or '<root>/task-1' if only that exists
   */
  dirFor(sessionId: string, storedDir?: string | null): string {
    const primary = path.join(this.root, this.checkedId(sessionId))
    if (storedDir == null || existsSync(primary)) return primary
    const storedName = lastSegment(storedDir)
    if (storedName === null || !isValidSessionId(storedName)) return primary
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
    const dir = path.join(this.root, this.checkedId(sessionId))
    for (const sub of WORKSPACE_SUBDIRS) await mkdir(path.join(dir, sub), { recursive: true })
    return dir
  }

  /** @example if (!(await workspaces.exists(id, row.workspace_dir))) ... */
  async exists(sessionId: string, storedDir?: string | null): Promise<boolean> {
    try {
      return (await stat(this.dirFor(sessionId, storedDir))).isDirectory()
    } catch (err) {
      if (isGone(err)) return false
      throw err
    }
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
    const dir = await this.existingDir(sessionId, opts.storedDir)
    return resolveInside(dir, relative, { allowRoot: opts.allowRoot ?? false })
  }

  /**
   * Bytes used by a workspace: the apparent size of its regular files.
   * Symlinks are not followed.
   *
   * @example
   *   await workspaces.usage(id) // 52_428_800
   */
  async usage(sessionId: string): Promise<number> {
    return diskUsage(await this.existingDir(sessionId))
  }

  /**
   * Refuse, with `WORKSPACE_QUOTA_EXCEEDED` (413), a write of `incomingBytes`
   * that would take the workspace over its quota. No-op without a quota.
   *
   * @example
   *   await workspaces.assertQuota(id, upload.byteLength)
   */
  async assertQuota(sessionId: string, incomingBytes: number): Promise<void> {
    const limit = this.quotaBytes
    if (limit === null) return
    const used = await this.usage(sessionId)
    if (used + incomingBytes <= limit) return
    throw new BerthError(
      'WORKSPACE_QUOTA_EXCEEDED',
      `The workspace of session ${sessionId} is full: it uses ${formatBytes(used)} (${used} bytes) of its ${formatBytes(limit)} (${limit} bytes) limit, ` +
        `and this write needs ${formatBytes(incomingBytes)} (${incomingBytes} bytes) more. ` +
        'Delete files from the workspace, or raise the limit with BERTH_WORKSPACE_QUOTA (or --workspace-quota).',
      { details: { sessionId, usedBytes: used, incomingBytes, limitBytes: limit } },
    )
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
    const target = await this.resolve(sessionId, relative)
    const existing = await lstatOrNull(target)
    if (existing?.isDirectory()) {
      throw new BerthError('PATH_IS_A_FOLDER', `Cannot write a file over a folder: ${relative}`, {
        details: { path: relative },
      })
    }
    const bytes = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength
    const growth = bytes - (existing?.isFile() ? existing.size : 0)
    if (growth > 0) await this.assertQuota(sessionId, growth)
    await mkdir(path.dirname(target), { recursive: true })
    await writeFileAtomic(target, data)
    return target
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
    await rm(this.dirFor(sessionId, storedDir), { recursive: true, force: true })
  }

  private checkedId(sessionId: string): string {
    if (isValidSessionId(sessionId)) return sessionId
    throw new BerthError('PATH_INVALID', `Not a valid session id: ${JSON.stringify(String(sessionId))}`, {
      details: { sessionId: String(sessionId) },
    })
  }

  private async existingDir(sessionId: string, storedDir?: string | null): Promise<string> {
    const dir = this.dirFor(sessionId, storedDir)
    if (await isDirectory(dir)) return dir
    throw new BerthError('WORKSPACE_NOT_FOUND', `No workspace folder for session ${sessionId} (looked in ${dir})`, {
      details: { sessionId, dir },
    })
  }
}

/** Last segment of a path written on any OS (`/a/b/`, `C:\a\b`), or null. */
function lastSegment(stored: string): string | null {
  const parts = String(stored)
    .split(/[\\/]/)
    .filter((p) => p !== '')
  return parts.at(-1) ?? null
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory()
  } catch (err) {
    if (isGone(err)) return false
    throw err
  }
}

import type { Dirent, Stats } from 'node:fs'
import { stat as statCallback } from 'node:fs'
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { BerthError, isBerthError } from '../core/errors.js'
import { formatBytes } from '../core/format-bytes.js'
import { createUnderFreeName, writeFileAtomic } from './atomic-write.js'
import { isValidSessionId, normalizeRelativePath, resolveInside } from './containment.js'
import { diskUsage } from './disk-usage.js'
import { isDirectory, isGone, lstatOrNull } from './fs-errors.js'
import type {
  ByteRange,
  LocalFolder,
  WorkspaceEntry,
  WorkspaceKey,
  WorkspaceRead,
  WorkspaceStorage,
  WriteOptions,
} from './workspace-storage.js'

export interface LocalStorageOptions {
  /** `<dataRoot>/workspace`: one folder per workspace below it. */
  root: string
  /** Size limit of one workspace in bytes; `null` for none. */
  quotaBytes: number | null
}

/** The folders every workspace starts with, as in the reference system. */
export const WORKSPACE_SUBDIRS = ['uploaded_files', 'agent_memory'] as const

/**
 * Workspaces as folders on the local disk, `<root>/<key>/`: the embedded
 * default. Every path goes through the one door (`resolveInside`), so a
 * symlink is followed only while it stays inside the workspace; writes are
 * atomic (temp file, fsync, rename) and checked against the quota, which is
 * the apparent size of the folder's regular files.
 *
 * Besides the interface it offers `folderOf` and `resolve` (a checked
 * absolute path) for what only ever runs on local disk (`Workspaces`, the
 * tools' door).
 *
 * @example
 *   const storage = new LocalWorkspaceStorage({ root: '/var/data/workspace', quotaBytes: 1024 ** 3 })
 *   await storage.create(key)
 *   await storage.write(key, 'notes/todo.md', '- [ ] ship\n')
 */
export class LocalWorkspaceStorage implements WorkspaceStorage {
  readonly kind = 'local' as const
  readonly root: string
  readonly quotaBytes: number | null

  constructor(options: LocalStorageOptions) {
    this.root = path.resolve(options.root)
    this.quotaBytes = options.quotaBytes
  }

  /** `<root>/<key>`, whether or not it exists; `PATH_INVALID` for a key that is not one safe folder name. */
  folderOf(key: WorkspaceKey): string {
    if (isValidSessionId(key)) return path.join(this.root, key)
    throw new BerthError('PATH_INVALID', `Not a valid session id: ${JSON.stringify(String(key))}`, {
      details: { sessionId: String(key) },
    })
  }

  async create(key: WorkspaceKey): Promise<void> {
    const dir = this.folderOf(key)
    for (const sub of WORKSPACE_SUBDIRS) await mkdir(path.join(dir, sub), { recursive: true })
  }

  async exists(key: WorkspaceKey): Promise<boolean> {
    return isDirectory(this.folderOf(key))
  }

  /**
   * A workspace path as a checked absolute path (see `resolveInside`);
   * `WORKSPACE_NOT_FOUND` when the folder is missing.
   *
   * @example
   *   await storage.resolve(key, 'uploaded_files/a.pdf') // '<root>/<key>/uploaded_files/a.pdf'
   */
  async resolve(key: WorkspaceKey, relative: string, options: { allowRoot?: boolean } = {}): Promise<string> {
    return resolveInside(await this.existingDir(key), relative, { allowRoot: options.allowRoot ?? false })
  }

  async stat(key: WorkspaceKey, relative: string): Promise<WorkspaceEntry | null> {
    const dir = await this.existingDir(key)
    const clean = normalizeRelativePath(relative, { allowRoot: true })
    let target: string
    try {
      target = await resolveInside(dir, clean, { allowRoot: true })
    } catch (error) {
      // A link whose target leaves the workspace is reported as a link; a path through one is refused.
      if (!isBerthError(error, 'PATH_OUTSIDE_WORKSPACE') || clean === '') throw error
      const parent = await resolveInside(dir, path.posix.dirname(clean), { allowRoot: true }).catch(() => null)
      const last = parent === null ? null : await lstatOrNull(path.join(parent, path.posix.basename(clean)))
      if (last?.isSymbolicLink()) return entryOf(clean, last)
      throw error
    }
    const info = await statOrNull(target)
    if (info !== null) return info.isFile() || info.isDirectory() ? entryOf(clean, info) : null
    const dangling = await lstatOrNull(target)
    return dangling?.isSymbolicLink() ? entryOf(clean, dangling) : null
  }

  async read(key: WorkspaceKey, relative: string, options: { range?: ByteRange } = {}): Promise<WorkspaceRead> {
    const clean = normalizeRelativePath(relative)
    const file = await this.resolve(key, clean)
    const handle = await open(file, 'r').catch((error: unknown) => {
      if (isGone(error)) throw notFound(clean)
      throw error
    })
    try {
      // Facts from the open handle, so the bytes and the version they are reported with belong together.
      const info = await handle.stat()
      if (!info.isFile()) throw new BerthError('PATH_INVALID', `Not a file: ${clean}`, { details: { path: clean } })
      const entry = entryOf(clean, info)
      const asked = options.range
      if (asked === undefined) return { entry, body: handle.createReadStream() }
      const range = { start: asked.start, end: Math.min(asked.end, info.size - 1) }
      if (range.start < 0 || range.start > range.end) {
        throw new BerthError('INVALID_REQUEST', `The range ${asked.start}-${asked.end} is outside ${clean}`, {
          details: { path: clean, size: info.size },
        })
      }
      return { entry, body: handle.createReadStream({ start: range.start, end: range.end }), range }
    } catch (error) {
      await handle.close()
      throw error
    }
  }

  async write(
    key: WorkspaceKey,
    relative: string,
    data: Uint8Array | string | Readable,
    options: WriteOptions = {},
  ): Promise<WorkspaceEntry> {
    const clean = normalizeRelativePath(relative)
    const parent = path.posix.dirname(clean)
    const within = (name: string) => (parent === '.' ? name : `${parent}/${name}`)
    // Under a free name anything at the wanted name (a link leading out included) is only a taken name: resolve the folder.
    const target = options.freeName
      ? path.join(await this.resolve(key, within(''), { allowRoot: true }), path.posix.basename(clean))
      : await this.resolve(key, clean)
    const existing = options.freeName ? null : await lstatOrNull(target)
    if (existing?.isDirectory()) {
      throw new BerthError('PATH_IS_A_FOLDER', `Cannot write a file over a folder: ${clean}`, {
        details: { path: clean },
      })
    }
    const replaced = existing?.isFile() ? existing.size : 0
    // Only growth counts: a write no bigger than the file it replaces needs no walk of the tree.
    const size = data instanceof Readable ? null : typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
    const quota = this.quotaBytes
    const used = quota !== null && (size === null || size > replaced) ? await this.usage(key) : null
    const limit = {
      maxBytes: quota === null || used === null ? null : Math.max(quota - used + replaced, replaced),
      tooLarge: (bytes: number) => this.quotaError(key, used ?? 0, bytes - replaced),
    }
    const folder = path.dirname(target)
    await mkdir(folder, { recursive: true })
    if (!options.freeName) {
      await writeFileAtomic(target, data, limit)
      return entryOf(clean, await stat(target))
    }
    const { name } = await createUnderFreeName(folder, path.posix.basename(clean), data, limit, async (name) => {
      await this.resolve(key, within(name))
    })
    return entryOf(within(name), await stat(path.join(folder, name)))
  }

  async *list(key: WorkspaceKey, relative = '', options: { depth?: number } = {}): AsyncIterable<WorkspaceEntry> {
    const clean = normalizeRelativePath(relative, { allowRoot: true })
    const start = await this.resolve(key, clean, { allowRoot: true })
    const info = await statOrNull(start)
    if (info === null) throw notFound(clean)
    if (!info.isDirectory())
      throw new BerthError('PATH_INVALID', `Not a folder: ${clean}`, { details: { path: clean } })
    yield* walk(start, clean, options.depth ?? Number.POSITIVE_INFINITY)
  }

  async remove(key: WorkspaceKey, relative: string): Promise<void> {
    const clean = normalizeRelativePath(relative, { allowRoot: true })
    if (clean === '') {
      await rm(this.folderOf(key), { recursive: true, force: true })
      return
    }
    // The last segment itself is removed, never followed: removing a link removes the link.
    const parent = await this.resolve(key, path.posix.dirname(clean), { allowRoot: true })
    await rm(path.join(parent, path.posix.basename(clean)), { recursive: true, force: true })
  }

  /**
   * Bytes used by a workspace: the apparent size of its regular files.
   * Symlinks are not followed.
   */
  async usage(key: WorkspaceKey): Promise<number> {
    return diskUsage(await this.existingDir(key))
  }

  /**
   * Refuse, with `WORKSPACE_QUOTA_EXCEEDED` (413), a write of `incomingBytes`
   * that would take the workspace over its quota. No-op without a quota.
   *
   * @example
   *   await storage.assertQuota(key, upload.byteLength)
   */
  async assertQuota(key: WorkspaceKey, incomingBytes: number): Promise<void> {
    if (this.quotaBytes === null) return
    const used = await this.usage(key)
    if (used + incomingBytes > this.quotaBytes) throw this.quotaError(key, used, incomingBytes)
  }

  /** The folder itself: nothing to copy, so `sync` and `release` have nothing to do. */
  async localFolder(key: WorkspaceKey): Promise<LocalFolder> {
    const dir = await this.existingDir(key)
    return { dir, sync: async () => {}, release: async () => {} }
  }

  private quotaError(key: WorkspaceKey, used: number, incomingBytes: number): BerthError {
    const limit = this.quotaBytes ?? 0
    return new BerthError(
      'WORKSPACE_QUOTA_EXCEEDED',
      `The workspace of session ${key} is full: it uses ${formatBytes(used)} (${used} bytes) of its ${formatBytes(limit)} (${limit} bytes) limit, ` +
        `and this write needs ${formatBytes(incomingBytes)} (${incomingBytes} bytes) more. ` +
        'Delete files from the workspace, or raise the limit with BERTH_WORKSPACE_QUOTA (or --workspace-quota).',
      { details: { sessionId: key, usedBytes: used, incomingBytes, limitBytes: limit } },
    )
  }

  private async existingDir(key: WorkspaceKey): Promise<string> {
    const dir = this.folderOf(key)
    if (await isDirectory(dir)) return dir
    throw new BerthError('WORKSPACE_NOT_FOUND', `No workspace folder for session ${key} (looked in ${dir})`, {
      details: { sessionId: key, dir },
    })
  }
}

/**
 * The validator of a local file version, as an ETag: inode, size and mtime
 * (an atomic replace changes the inode, an in-place write the mtime).
 *
 * @example
 *   localEtag(await stat(file)) // '"1b2c-4e20-l2k3j4"'
 */
export function localEtag(info: Stats): string {
  const mtime = Math.floor(info.mtimeMs * 1000).toString(36)
  return `"${info.ino.toString(36)}-${info.size.toString(36)}-${mtime}"`
}

function entryOf(relative: string, info: Stats): WorkspaceEntry {
  const type = info.isSymbolicLink() ? 'symlink' : info.isDirectory() ? 'directory' : 'file'
  return {
    path: relative,
    type,
    size: type === 'file' ? info.size : 0,
    mtimeMs: info.mtimeMs,
    etag: localEtag(info),
  }
}

/** Pre-order, siblings by code unit order; links are reported (lstat) and never entered. */
async function* walk(dir: string, relative: string, depth: number): AsyncGenerator<WorkspaceEntry> {
  let entries: Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (error) {
    if (isGone(error)) return // vanished meanwhile: list what is there
    throw error
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const dirent of entries) {
    if (!dirent.isFile() && !dirent.isDirectory() && !dirent.isSymbolicLink()) continue
    const full = path.join(dir, dirent.name)
    const info = await lstatOrNull(full)
    if (info === null) continue
    const rel = relative === '' ? dirent.name : `${relative}/${dirent.name}`
    yield entryOf(rel, info)
    if (info.isDirectory() && depth > 1) yield* walk(full, rel, depth - 1)
  }
}

function notFound(relative: string): BerthError {
  return new BerthError('FILE_NOT_FOUND', `No such file: ${relative}`, { details: { path: relative } })
}

// The callback form skips a promise allocation per call; this runs on every site revalidation.
function statOrNull(file: string): Promise<Stats | null> {
  return new Promise((resolve) => statCallback(file, (error, info) => resolve(error ? null : info)))
}

import type { Readable } from 'node:stream'
import { isValidSessionId } from './containment.js'

/**
 * Where workspace files live, behind one interface: the local disk (the
 * embedded default, `local-storage.ts`) or an S3-compatible bucket
 * (`s3/s3-storage.ts`). Every backend passes the same contract suite
 * (test/workspace/storage-contract.ts).
 *
 * A workspace is named by its key (`workspaceKey` below), never by a stored
 * path: the stored `workspace_dir` may name another machine's disk. Paths are
 * workspace-relative with `/` separators and are checked by the one door
 * (`normalizeRelativePath` in containment.ts) before any backend sees them.
 */
export interface WorkspaceStorage {
  readonly kind: 'local' | 's3'

  /** Makes the workspace with its standard folders; calling it again on an existing one is fine. */
  create(key: WorkspaceKey): Promise<void>
  exists(key: WorkspaceKey): Promise<boolean>
  /** A file or folder, or null when nothing is there. Symlinks are reported, never followed out of the workspace. */
  stat(key: WorkspaceKey, path: string): Promise<WorkspaceEntry | null>
  /** A file's bytes as a stream, the whole file or one range (both ends inclusive, as in `Content-Range`). */
  read(key: WorkspaceKey, path: string, options?: { range?: ByteRange }): Promise<WorkspaceRead>
  /**
   * Replaces (or creates) a file atomically, creating parent folders: readers
   * see the old bytes or the new, never a torn file. The quota is checked
   * first; replacing a file counts only its growth. A stream is counted as it
   * arrives and refused (`WORKSPACE_QUOTA_EXCEEDED`, nothing written) once it
   * passes the room left. With `freeName` nothing is replaced: the file gets
   * the first free version of its name (`a.txt`, `a_1.txt`, …, the upload
   * rule of file-names.ts), chosen after the bytes arrived, and the returned
   * entry's `path` says which.
   */
  write(
    key: WorkspaceKey,
    path: string,
    data: Uint8Array | string | Readable,
    options?: WriteOptions,
  ): Promise<WorkspaceEntry>
  /**
   * The entries below `path` ('' for the whole workspace), each once, depth
   * first: a folder comes right before its contents, siblings in code-unit
   * order of their names. `depth` 1 lists only the folder's own entries.
   * Symlinks are listed as `symlink` and never entered.
   */
  list(key: WorkspaceKey, path?: string, options?: { depth?: number }): AsyncIterable<WorkspaceEntry>
  /**
   * Removes a file, or a folder and everything in it ('' removes the whole
   * workspace); nothing there is not an error. Only on an explicit request
   * (never implicitly).
   */
  remove(key: WorkspaceKey, path: string): Promise<void>
  /** Bytes used by the workspace's regular files. */
  usage(key: WorkspaceKey): Promise<number>

  /**
   * A real folder holding the workspace, for what needs one (the shell, the
   * editor, the browser). Local storage hands out the folder itself; remote
   * storage materializes it in a scratch folder and `sync()` writes changes
   * back.
   */
  localFolder(key: WorkspaceKey): Promise<LocalFolder>
}

export interface WriteOptions {
  /** Never replace: take the first free version of the name (see `write`). */
  freeName?: boolean
}

/** One byte range, both ends inclusive, as in `Content-Range`. */
export interface ByteRange {
  start: number
  end: number
}

/** The folder name of a workspace: the session id, or a GAIA task's folder name. */
export type WorkspaceKey = string

export interface WorkspaceEntry {
  /** Workspace-relative, `/`-separated; '' for the workspace itself. */
  path: string
  type: 'file' | 'directory' | 'symlink'
  size: number
  mtimeMs: number
  /**
   * A validator of the content, quoted as in an `ETag` header: the S3 ETag,
   * or locally one made of inode, size and mtime (an atomic replace makes a
   * new inode, an in-place write a new mtime).
   */
  etag: string
}

export interface WorkspaceRead {
  entry: WorkspaceEntry
  body: Readable
  /** The range actually sent, when one was asked for. */
  range?: ByteRange
}

export interface LocalFolder {
  /** Absolute path of the folder. */
  dir: string
  /** Writes local changes back to the storage (a no-op for local storage). */
  sync(): Promise<void>
  /** Done with the folder: syncs, then frees the scratch copy (a no-op for local storage). */
  release(): Promise<void>
}

/**
 * The key of a session's workspace: its id, or the last segment of its
 * stored `workspace_dir` when only that exists (GAIA folders are named after
 * the task). The stored value is never used as a path.
 *
 * @example
 *   await workspaceKey(storage, { id: 'abc', workspaceDir: '/old/disk/workspace/task-1' }) // 'abc', or 'task-1'
 */
export async function workspaceKey(
  storage: Pick<WorkspaceStorage, 'exists'>,
  session: { id: string; workspaceDir?: string | null },
): Promise<WorkspaceKey> {
  const stored = storedFolderName(session.workspaceDir)
  if (stored === null || stored === session.id || (await storage.exists(session.id))) return session.id
  return (await storage.exists(stored)) ? stored : session.id
}

/** The last segment of a stored `workspace_dir` written on any OS (`/a/b/`, `C:\\a\\b`) when it is a valid key, else null. */
export function storedFolderName(storedDir: string | null | undefined): WorkspaceKey | null {
  if (storedDir == null) return null
  const name = String(storedDir)
    .split(/[\\/]/)
    .filter((part) => part !== '')
    .at(-1)
  return name !== undefined && isValidSessionId(name) ? name : null
}

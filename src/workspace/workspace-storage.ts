import type { Readable } from 'node:stream'

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
   * first; replacing a file counts only its growth.
   */
  write(key: WorkspaceKey, path: string, data: Uint8Array | string | Readable): Promise<WorkspaceEntry>
  /** The entries below `path` ('' for the whole workspace), depth first, each once. */
  list(key: WorkspaceKey, path?: string): AsyncIterable<WorkspaceEntry>
  /** Removes a file, or a folder and everything in it. Only on an explicit request (never implicitly). */
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
  /** A strong validator of the content when the backend has one (S3 ETag); local storage derives one from size and mtime. */
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

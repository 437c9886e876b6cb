import path from 'node:path'
import type { Readable } from 'node:stream'
import { ZipFile } from 'yazl'
import { BerthError } from '../../core/errors.js'
import type { WorkspaceKey, WorkspaceStorage } from '../../workspace/workspace-storage.js'

// Deflating these again costs CPU and saves nothing.
const STORED = new Set(
  'png jpg jpeg gif webp avif ico zip gz tgz bz2 xz zst 7z rar mp3 mp4 m4a mov webm ogg woff woff2 pdf'.split(' '),
)

export interface WorkspaceZip {
  stream: Readable
  /** Suggested download name: `<session>.zip` or `<folder>.zip`. */
  fileName: string
}

/**
 * A zip of a session's workspace, or of one folder in it, produced as a
 * stream (yazl opens one file at a time, so memory stays flat). Hidden files
 * and folders are left out like in the reference; a symlink is included only
 * when it points at a file inside the workspace, and linked folders are never
 * entered (no escape, no loop).
 *
 * @example
 *   const { stream, fileName } = await zipWorkspace(storage, key, 'site', { name: sessionId })
 *   stream.pipe(response)
 */
export async function zipWorkspace(
  storage: WorkspaceStorage,
  key: WorkspaceKey,
  relative: string,
  options: { name?: string } = {},
): Promise<WorkspaceZip> {
  const start = await storage.stat(key, relative)
  if (start === null) throw new BerthError('FILE_NOT_FOUND', `No such folder: ${relative}`)
  if (start.type !== 'directory') throw new BerthError('PATH_INVALID', `Not a folder: ${relative}`)
  const prefix = start.path

  const zip = new ZipFile()
  const stream = zip.outputStream as Readable
  // A file that vanishes or cannot be read mid-zip ends the download with an error instead of hanging it.
  zip.on('error', (error: Error) => stream.destroy(error))
  const addFile = (source: string, name: string, mtimeMs: number) =>
    zip.addReadStreamLazy(name, { mtime: new Date(mtimeMs), compress: !STORED.has(extensionOf(name)) }, (done) => {
      storage.read(key, source).then(
        (read) => done(null, read.body),
        (error: Error) => done(error, undefined as unknown as Readable),
      )
    })
  await addFolder(storage, key, prefix, prefix, addFile, zip)
  zip.end()
  const base = prefix === '' ? (options.name ?? key) : path.posix.basename(prefix)
  return { stream, fileName: `${base}.zip` }
}

/** One folder, a list call each (hidden folders are never walked); names in the zip are relative to `root`. */
async function addFolder(
  storage: WorkspaceStorage,
  key: WorkspaceKey,
  root: string,
  folder: string,
  addFile: (source: string, name: string, mtimeMs: number) => void,
  zip: ZipFile,
): Promise<void> {
  const inZip = (p: string) => (root === '' ? p : p.slice(root.length + 1))
  let visible = 0
  try {
    for await (const entry of storage.list(key, folder, { depth: 1 })) {
      if (path.posix.basename(entry.path).startsWith('.')) continue
      visible++
      if (entry.type === 'directory') await addFolder(storage, key, root, entry.path, addFile, zip)
      else if (entry.type === 'file') addFile(entry.path, inZip(entry.path), entry.mtimeMs)
      else {
        const target = await storage.stat(key, entry.path).catch(() => null)
        if (target?.type === 'file') addFile(entry.path, inZip(entry.path), target.mtimeMs)
      }
    }
  } catch {
    return // vanished or unreadable: zip what can be read
  }
  if (visible === 0 && folder !== root) zip.addEmptyDirectory(inZip(folder))
}

function extensionOf(name: string): string {
  return path.extname(name).slice(1).toLowerCase()
}

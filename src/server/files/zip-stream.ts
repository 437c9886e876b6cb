import type { Dirent } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { ZipFile } from 'yazl'
import { BerthError } from '../../core/errors.js'
import type { Workspaces } from '../../workspace/workspaces.js'

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
 * stream (yazl reads one file at a time, so memory stays flat). Hidden files
 * and folders are left out like in the reference; a symlink is included only
 * when it points at a file inside the workspace, and linked folders are never
 * entered (no escape, no loop).
 *
 * @example
 *   const { stream, fileName } = await zipWorkspace(workspaces, sessionId, 'site')
 *   stream.pipe(response)
 */
export async function zipWorkspace(
  workspaces: Workspaces,
  sessionId: string,
  relative: string,
  options: { storedDir?: string | null } = {},
): Promise<WorkspaceZip> {
  const storedDir = options.storedDir ?? null
  const start = await workspaces.resolve(sessionId, relative, { allowRoot: true, storedDir })
  const info = await stat(start).catch(() => null)
  if (info === null) throw new BerthError('FILE_NOT_FOUND', `No such folder: ${relative}`)
  if (!info.isDirectory()) throw new BerthError('PATH_INVALID', `Not a folder: ${relative}`)
  const prefix = relative.replaceAll('\\', '/').replace(/^\/+|\/+$/g, '')

  const zip = new ZipFile()
  const resolveLink = async (rel: string): Promise<string | null> => {
    const real = await workspaces.resolve(sessionId, prefix === '' ? rel : `${prefix}/${rel}`, { storedDir })
    return (await stat(real)).isFile() ? real : null
  }
  await addFolder(zip, start, '', resolveLink)
  zip.end()
  const stream = zip.outputStream as Readable
  // A file that vanishes or cannot be read mid-zip ends the download with an error instead of hanging it.
  zip.on('error', (error: Error) => stream.destroy(error))
  const base = prefix === '' ? sessionId : path.posix.basename(prefix)
  return { stream, fileName: `${base}.zip` }
}

async function addFolder(
  zip: ZipFile,
  dir: string,
  rel: string,
  resolveLink: (rel: string) => Promise<string | null>,
): Promise<void> {
  let entries: Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return // vanished or unreadable: zip what can be read
  }
  const visible = entries.filter((entry) => !entry.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1))
  if (visible.length === 0 && rel !== '') zip.addEmptyDirectory(rel)
  for (const entry of visible) {
    const entryRel = rel === '' ? entry.name : `${rel}/${entry.name}`
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) await addFolder(zip, full, entryRel, resolveLink)
    else if (entry.isFile()) zip.addFile(full, entryRel, { compress: !STORED.has(extensionOf(entry.name)) })
    else if (entry.isSymbolicLink()) {
      const target = await resolveLink(entryRel).catch(() => null)
      if (target !== null) zip.addFile(target, entryRel, { compress: !STORED.has(extensionOf(entry.name)) })
    }
  }
}

function extensionOf(name: string): string {
  return path.extname(name).slice(1).toLowerCase()
}

import { randomBytes } from 'node:crypto'
import { mkdir, open, readlink, realpath, rename, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import { BerthError } from '../core/errors.js'
import { syncDirectory } from '../core/fsync.js'
import { isInside } from './containment.js'
import { isGone, lstatOrNull } from './fs-errors.js'
import type { Workspaces } from './workspaces.js'

/** What `writeFileThrough` needs of a workspace: its one door, its folder and its quota. */
export type WorkspaceDoor = Pick<Workspaces, 'resolve' | 'dirFor' | 'assertQuota'>

/** Where a write through a workspace path lands. */
export interface WriteTarget {
  /** The path under the workspace the caller named (a symlink stays this path). */
  absolute: string
  /** The file that gets the bytes: `absolute` itself, or the end of the symlink chain at it. */
  target: string
  /** The target's size and permission bits, or null when no file is there yet. */
  existing: { size: number; mode: number } | null
}

/**
 * Find the file a write to `relative` should change, following a symlink at
 * that path (the way an editor writes through a link) instead of replacing
 * it. Containment is checked by `workspaces.resolve` (a link leading out of
 * the workspace is `PATH_OUTSIDE_WORKSPACE`) and again on the final real
 * path. A dangling link is `FILE_NOT_FOUND`; a folder is `PATH_IS_A_FOLDER`.
 *
 * @example
 *   await resolveWriteTarget(workspaces, id, 'current.md') // { target: '<ws>/notes/2024.md', ... } for current.md -> notes/2024.md
 */
export async function resolveWriteTarget(
  workspaces: WorkspaceDoor,
  sessionId: string,
  relative: string,
  opts: { storedDir?: string | null } = {},
): Promise<WriteTarget> {
  const absolute = await workspaces.resolve(sessionId, relative, { storedDir: opts.storedDir })
  const link = await lstatOrNull(absolute)
  let target = absolute
  if (link?.isSymbolicLink()) {
    try {
      target = await realpath(absolute)
    } catch (err) {
      if (!isGone(err)) throw err
      const points = await readlink(absolute).catch(() => '?')
      throw new BerthError(
        'FILE_NOT_FOUND',
        `${relative} is a symbolic link to ${points}, which does not exist. ` +
          'Create the file it points to, or remove the link and write a regular file.',
        { details: { path: relative, link: points } },
      )
    }
    // resolve() walked the chain already; checking the real path again narrows the window for a link swapped since.
    const base = await realpath(workspaces.dirFor(sessionId, opts.storedDir))
    if (!isInside(base, target)) {
      throw new BerthError(
        'PATH_OUTSIDE_WORKSPACE',
        `Path leads outside the workspace through a symlink: ${relative}`,
        {
          details: { path: relative },
        },
      )
    }
  }
  const info = link === null ? null : await stat(target)
  if (info?.isDirectory()) {
    throw new BerthError('PATH_IS_A_FOLDER', `Cannot write a file over a folder: ${relative}`, {
      details: { path: relative },
    })
  }
  return { absolute, target, existing: info === null ? null : { size: info.size, mode: info.mode & 0o7777 } }
}

/**
 * Write `data` to a workspace file atomically, through a symlink at the path
 * when there is one (the link stays a link; its target inside the workspace
 * gets the bytes), keeping the file's permission bits (an edited script
 * stays executable). The quota counts only growth. Returns where it wrote.
 *
 * Atomic as `writeFileAtomic` (src/workspace/atomic-write.ts): a temp file
 * next to the TARGET (same folder, so the rename cannot cross file systems),
 * fsynced, renamed over the target, then the folder fsynced.
 *
 * @example
 *   await writeFileThrough(workspaces, id, 'link-to-notes.md', '# Notes\r\n')
 */
export async function writeFileThrough(
  workspaces: WorkspaceDoor,
  sessionId: string,
  relative: string,
  data: Uint8Array | string,
  opts: { storedDir?: string | null } = {},
): Promise<WriteTarget> {
  const found = await resolveWriteTarget(workspaces, sessionId, relative, opts)
  const bytes = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength
  const growth = bytes - (found.existing?.size ?? 0)
  if (growth > 0) await workspaces.assertQuota(sessionId, growth)
  await mkdir(path.dirname(found.target), { recursive: true })
  await replaceAtomically(found.target, data, found.existing?.mode)
  return found
}

async function replaceAtomically(file: string, data: Uint8Array | string, mode: number | undefined): Promise<void> {
  const dir = path.dirname(file)
  // Short and hidden, as in atomic-write.ts: a long target name plus a suffix could pass NAME_MAX.
  const temp = path.join(dir, `.berth-tmp-${randomBytes(8).toString('hex')}`)
  // A new file gets the usual 0o666 less the umask; a replaced one keeps its bits, set
  // explicitly because the umask also cuts the mode given to open().
  const handle = await open(temp, 'wx', mode ?? 0o666)
  try {
    try {
      await handle.writeFile(data)
      if (mode !== undefined) await handle.chmod(mode)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, file)
  } catch (err) {
    await unlink(temp).catch(() => undefined)
    throw err
  }
  await syncDirectory(dir)
}

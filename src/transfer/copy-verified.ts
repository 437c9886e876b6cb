import { chmod, lchown, lutimes, symlink } from 'node:fs/promises'
import { BerthError } from '../core/errors.js'
import { type CopyItem, errorOf, FileJobRefused, runFileJob } from './file-workers.js'
import type { TreeEntry } from './tree-walk.js'

/** One file to copy: `expected` is the source as walked. */
export interface CopyRequest {
  source: string
  target: string
  expected: TreeEntry
}

/**
 * Copy regular files to new paths and prove each copy, on a worker thread:
 * every chunk written is read back from the copy and compared byte for byte
 * with the source's. Each source must still be the file `expected` describes
 * (same inode, size and times) before, while and after it is read, so a file
 * written to during the copy is caught (`SOURCE_CHANGED`) rather than copied
 * half old, half new. Mode, times and (as root) owner are kept. The copies
 * are not synced: the caller makes them durable (`syncFileSystem`,
 * `syncFiles`). A target must not exist unless `replace` (staging paths of
 * the caller's own), and a failed copy leaves none behind.
 *
 * All go in one message, in order: for many small files the round trips cost
 * more than the bytes. It stops at the first failure and returns what was
 * copied before it, so the caller can record those and then throw `error`.
 *
 * @example
 *   const { copied, error } = await copyFilesVerified([{ source, target, expected: entry }], { replace: false })
 */
export async function copyFilesVerified(
  requests: CopyRequest[],
  options: { replace: boolean },
): Promise<{ copied: { size: number }[]; error?: unknown }> {
  const { results, failure } = await runFileJob({
    kind: 'copyBatch',
    items: requests.map((request) => copyItem(request, options.replace)),
  })
  if (failure === undefined) return { copied: results }
  const failed = requests[results.length] as CopyRequest
  return { copied: results, error: copyError(errorOf(failure), failed.source, failed.target) }
}

function copyItem({ source, target, expected }: CopyRequest, replace: boolean): CopyItem {
  return {
    source,
    target,
    expected: {
      ino: String(expected.ino),
      size: expected.size,
      mtimeNs: String(expected.mtimeNs),
      ctimeNs: String(expected.ctimeNs),
    },
    mode: expected.mode,
    uid: expected.uid,
    gid: expected.gid,
    atime: seconds(expected.atimeNs),
    mtime: seconds(expected.mtimeNs),
    replace,
  }
}

/** A worker's failure as berth's error: SOURCE_CHANGED, COPY_VERIFY_FAILED, DISK_FULL, or as it was. */
function copyError(error: unknown, source: string, target: string): unknown {
  if (error instanceof FileJobRefused && error.kind === 'changed') return changed(source, error.message)
  if (error instanceof FileJobRefused) {
    return new BerthError(
      'COPY_VERIFY_FAILED',
      `The copy ${target} does not match its source ${source}: ${error.message}.`,
      {
        details: { source, target },
      },
    )
  }
  return asDiskFull(error, target)
}

/**
 * Whether two regular files hold the same bytes, compared on a worker thread.
 *
 * @example
 *   if (!(await sameContent('/old/a.pdf', '/new/a.pdf'))) console.log('differs')
 */
export async function sameContent(a: string, b: string): Promise<boolean> {
  return (await runFileJob({ kind: 'compare', a, b })).same
}

/**
 * fdatasync many files at once on the worker threads: the disk sees their
 * writes together instead of one flush per file in turn.
 *
 * @example
 *   await syncFiles(['/new/.staging/a.pdf', '/new/.staging/b.png'])
 */
export async function syncFiles(files: string[]): Promise<void> {
  await Promise.all(
    files.map((file) =>
      runFileJob({ kind: 'fsync', file }).catch((error: unknown) => {
        throw asDiskFull(error, file)
      }),
    ),
  )
}

/**
 * Recreate a symlink with the same link text (never followed, wherever it
 * points) and, as far as the OS allows, its times and owner.
 *
 * @example
 *   await copySymlink('/new/.staging/link', entry) // entry.target === '../../etc/passwd' stays exactly that
 */
export async function copySymlink(target: string, entry: TreeEntry): Promise<void> {
  if (entry.target === undefined) throw new TypeError(`${entry.path} is not a symlink`)
  try {
    await symlink(entry.target, target)
    await lutimes(target, seconds(entry.atimeNs), seconds(entry.mtimeNs)).catch(() => undefined)
    if (process.getuid?.() === 0) await lchown(target, entry.uid, entry.gid).catch(() => undefined)
  } catch (error) {
    throw asDiskFull(error, target)
  }
}

/** Mode, times and (when running as root) owner of `entry`, applied to a file or folder. */
export async function applyMetadata(target: string, entry: TreeEntry): Promise<void> {
  await chmod(target, entry.mode)
  if (process.getuid?.() === 0) await lchown(target, entry.uid, entry.gid).catch(() => undefined)
  await lutimes(target, seconds(entry.atimeNs), seconds(entry.mtimeNs))
}

/**
 * Seconds as the double Node's utimes takes. A double near today's epoch
 * resolves about 0.24 µs and libuv truncates, so aim at the middle of the
 * microsecond: the copy then has the source's time exact to the microsecond.
 */
function seconds(ns: bigint): number {
  return (Number(ns / 1000n) + 0.5) / 1e6
}

/** Turn ENOSPC/EDQUOT into berth's DISK_FULL, naming the file. */
export function asDiskFull(error: unknown, file: string): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return error
  return new BerthError(
    'DISK_FULL',
    `The disk is full: could not write ${file} (${code}). Nothing half-written was kept; ` +
      'free some space and run the same command again to continue where it stopped.',
    { cause: error, details: { file } },
  )
}

function changed(source: string, why: string): BerthError {
  return new BerthError('SOURCE_CHANGED', `The source file ${source} changed during the copy: ${why}.`, {
    details: { file: source },
  })
}

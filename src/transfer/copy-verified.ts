import { createHash } from 'node:crypto'
import { type BigIntStats, constants } from 'node:fs'
import { chmod, copyFile, lchown, lstat, lutimes, open, symlink, unlink } from 'node:fs/promises'
import { BerthError } from '../core/errors.js'
import { hashOffThread } from './hash-pool.js'
import type { TreeEntry } from './tree-walk.js'

/** Read in chunks of this size; one buffer per concurrent read. */
const CHUNK = 1024 * 1024
const pool: Buffer[] = []

export interface VerifiedFile {
  size: number
  sha256: string
}

/**
 * Copy one regular file to a new path and prove the copy: the kernel copies
 * the bytes (copy_file_range where available), the copy is fsynced, and the
 * source and the copy are both hashed (SHA-256, on worker threads, in
 * parallel); sizes and hashes must match. The source must still be the file
 * `expected` describes (same inode, size and times) before and after, so a
 * file written to during the copy is caught (`SOURCE_CHANGED`) rather than
 * verified against its new content. Mode, times and (as root) owner are
 * kept. `target` must not exist; on any failure it is removed.
 *
 * @example
 *   const { sha256 } = await copyFileVerified('/old/a.pdf', '/new/.staging/a.pdf', entry)
 */
export async function copyFileVerified(source: string, target: string, expected: TreeEntry): Promise<VerifiedFile> {
  let created = false
  try {
    assertUnchanged(source, expected, await lstat(source, { bigint: true }))
    await copyFile(source, target, constants.COPYFILE_EXCL)
    created = true
    const handle = await open(target, 'r')
    let copied: VerifiedFile
    let original: VerifiedFile
    try {
      // The source is hashed by path with O_NOFOLLOW: a symlink swapped in since the walk fails here.
      ;[original, copied] = await Promise.all([hashOffThread(source), hashOffThread(target), handle.datasync()])
    } finally {
      await handle.close()
    }
    assertUnchanged(source, expected, await lstat(source, { bigint: true }))
    if (original.size !== expected.size) throw changed(source, 'its size changed while it was read')
    if (copied.size !== original.size || copied.sha256 !== original.sha256) {
      throw new BerthError(
        'COPY_VERIFY_FAILED',
        `The copy ${target} does not match its source ${source} after writing ` +
          `(${copied.size} bytes, sha256 ${copied.sha256} instead of ${original.size} bytes, ${original.sha256}).`,
        { details: { source, target } },
      )
    }
    await applyMetadata(target, expected)
    return original
  } catch (error) {
    if (created) await unlink(target).catch(() => undefined)
    throw asDiskFull(error, target)
  }
}

/**
 * SHA-256 and size of a file.
 *
 * @example
 *   const { size, sha256 } = await hashFile('/data/workspace/abc/report.pdf')
 */
export async function hashFile(file: string, buffer?: Buffer): Promise<VerifiedFile> {
  const own = buffer ?? pool.pop() ?? Buffer.allocUnsafe(CHUNK)
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW)
  try {
    const hash = createHash('sha256')
    let size = 0
    for (;;) {
      const { bytesRead } = await handle.read(own, 0, own.length, size)
      if (bytesRead === 0) break
      hash.update(own.subarray(0, bytesRead))
      size += bytesRead
    }
    return { size, sha256: hash.digest('hex') }
  } finally {
    await handle.close()
    if (buffer === undefined) pool.push(own)
  }
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
    { status: 507, cause: error, details: { file } },
  )
}

function assertUnchanged(source: string, expected: TreeEntry, now: BigIntStats): void {
  if (!now.isFile()) throw changed(source, 'it is no longer a regular file')
  if (now.ino !== expected.ino) throw changed(source, 'it was replaced by another file')
  if (Number(now.size) !== expected.size) throw changed(source, 'its size changed')
  if (now.mtimeNs !== expected.mtimeNs || now.ctimeNs !== expected.ctimeNs) throw changed(source, 'it was modified')
}

function changed(source: string, why: string): BerthError {
  return new BerthError('SOURCE_CHANGED', `The source file ${source} changed during the copy: ${why}.`, {
    status: 409,
    details: { file: source },
  })
}

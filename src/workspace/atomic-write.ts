import { randomBytes } from 'node:crypto'
import { open, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import { syncDirectory } from '../core/fsync.js'

/**
 * Replace `file` with `data` so that a crash leaves either the old content or
 * the new, never a torn file: write a temp file in the same folder (same file
 * system, so rename is atomic), fsync it, rename it over `file`, then fsync
 * the folder so the rename itself survives a power cut. An existing symlink at
 * `file` is replaced by the new file, never written through.
 *
 * @example
 *   await writeFileAtomic('/data/workspace/abc/notes.md', '# Notes\n')
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file)
  // Short and hidden: a long target name plus a suffix could pass NAME_MAX.
  const temp = path.join(dir, `.berth-tmp-${randomBytes(8).toString('hex')}`)
  const handle = await open(temp, 'wx')
  try {
    try {
      await handle.writeFile(data)
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

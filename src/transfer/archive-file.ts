import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import type { TarWriter } from './tar-writer.js'
import type { TreeEntry } from './tree-walk.js'

const CHUNK = 1024 * 1024

/**
 * Stream exactly `entry.size` bytes of a file into a tar entry while hashing
 * them, so the checksum is that of what the archive holds even if the file
 * changes meanwhile. A file that grew contributes its first `size` bytes (a
 * log being appended stays a clean prefix); one that shrank is padded with
 * zeros. Either way `changed` says so.
 *
 * @example
 *   const { sha256, changed } = await archiveFile(tar, 'workspace/a.txt', '/data/workspace/a.txt', entry)
 */
export async function archiveFile(
  tar: TarWriter,
  name: string,
  file: string,
  entry: TreeEntry,
): Promise<{ sha256: string; changed: boolean }> {
  const hash = createHash('sha256')
  // Never through a symlink: the walk saw a regular file, and a swap since must not lead elsewhere.
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW)
  let changed = false
  try {
    const before = await handle.stat({ bigint: true })
    changed = before.mtimeNs !== entry.mtimeNs || Number(before.size) !== entry.size
    async function* chunks(): AsyncGenerator<Uint8Array> {
      let position = 0
      while (position < entry.size) {
        const buffer = Buffer.allocUnsafe(Math.min(CHUNK, entry.size - position))
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position)
        if (bytesRead === 0) {
          changed = true
          buffer.fill(0)
          position += buffer.length
          hash.update(buffer)
          yield buffer
          continue
        }
        const data = buffer.subarray(0, bytesRead)
        position += bytesRead
        hash.update(data)
        yield data
      }
    }
    await tar.addFile(name, entry.size, chunks(), {
      mode: entry.mode,
      mtime: new Date(Number(entry.mtimeNs / 1_000_000n)),
    })
    const after = await handle.stat({ bigint: true })
    if (after.mtimeNs !== before.mtimeNs || after.size !== before.size) changed = true
  } finally {
    await handle.close()
  }
  return { sha256: hash.digest('hex'), changed }
}

import { randomBytes } from 'node:crypto'
import { link, open, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { freeFileName } from '../../workspace/file-names.js'

export interface SaveUploadOptions {
  /** Fail once more than this many bytes arrived; `null` for no limit. */
  maxBytes: number | null
  /** The error to fail with when `maxBytes` is passed (given the bytes seen so far). */
  tooLarge: (bytesSoFar: number) => Error
  /** Called with a candidate name before it is taken, so the caller can put it through the containment check. */
  checkName?: (name: string) => Promise<void>
}

/**
 * Save an upload into `dir` under a free version of `wantedName` (`a.txt`,
 * then `a_1.txt`, ...) without ever holding it whole in memory or leaving a
 * torn file: the bytes stream into a hidden temp file in `dir`, are synced,
 * and the temp file is then linked to its final name, which fails rather than
 * replaces when another upload took the name meanwhile (or a symlink sits
 * there). Where hard links are not supported, the name is reserved with an
 * exclusive create and the temp file renamed over it. On any failure
 * (including the size limit) the temp file is removed.
 *
 * @example
 *   const { name, size } = await saveUpload(dir, 'report.pdf', part.file, { maxBytes: 100e6, tooLarge })
 */
export async function saveUpload(
  dir: string,
  wantedName: string,
  source: Readable | Buffer,
  options: SaveUploadOptions,
): Promise<{ name: string; size: number }> {
  const temp = path.join(dir, `.berth-upload-${randomBytes(8).toString('hex')}`)
  let size = 0
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length
      if (options.maxBytes !== null && size > options.maxBytes) callback(options.tooLarge(size))
      else callback(null, chunk)
    },
  })
  try {
    const handle = await open(temp, 'wx')
    try {
      const input = Buffer.isBuffer(source) ? Readable.from([source]) : source
      await pipeline(input, counter, async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) await handle.write(chunk)
      })
      await handle.sync()
    } finally {
      await handle.close()
    }
    const name = await claimName(dir, wantedName, temp, options.checkName)
    await unlink(temp).catch(() => undefined) // gone already after the rename fallback
    await syncDir(dir)
    return { name, size }
  } finally {
    await unlink(temp).catch(() => undefined)
  }
}

/** Give the finished temp file a free name; the temp file itself is removed by the caller. */
async function claimName(
  dir: string,
  wantedName: string,
  temp: string,
  checkName: ((name: string) => Promise<void>) | undefined,
): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const name = await freeFileName(dir, wantedName)
    await checkName?.(name)
    const target = path.join(dir, name)
    try {
      await link(temp, target)
      return name
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EEXIST') continue // someone took the name first: pick the next one
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw error
    }
    // No hard links here (some network and FUSE file systems): reserve the name, then move the data onto it.
    try {
      await (await open(target, 'wx')).close()
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw error
    }
    await rename(temp, target)
    return name
  }
  throw new Error(`Could not find a free name for ${wantedName} in ${dir}`)
}

/** Make the new directory entry itself durable; file systems that refuse fsync on a folder are let be. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } catch {
    // EINVAL/EISDIR on some file systems: the data is synced, this only narrows a window.
  } finally {
    await handle.close()
  }
}

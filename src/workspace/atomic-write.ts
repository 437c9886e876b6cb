import { randomBytes } from 'node:crypto'
import { link, open, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { syncDirectory } from '../core/fsync.js'
import { freeFileName } from './file-names.js'

/** A ceiling on the bytes a write may take, and the error it fails with once passed (given the bytes seen). */
export interface ByteLimit {
  maxBytes: number | null
  tooLarge: (bytesSoFar: number) => Error
}

type Data = Uint8Array | string | Readable

/**
 * Replace `file` with `data` so that a crash leaves either the old content or
 * the new, never a torn file: write a temp file in the same folder (same file
 * system, so rename is atomic), fsync it, rename it over `file`, then fsync
 * the folder so the rename itself survives a power cut. An existing symlink at
 * `file` is replaced by the new file, never written through. A stream is
 * written as it arrives; past `limit` the write fails and `file` is untouched.
 * Returns the bytes written.
 *
 * @example
 *   await writeFileAtomic('/data/workspace/abc/notes.md', '# Notes\n')
 */
export async function writeFileAtomic(file: string, data: Data, limit?: ByteLimit): Promise<number> {
  const dir = path.dirname(file)
  const { temp, size } = await writeTemp(dir, data, limit)
  try {
    await rename(temp, file)
  } catch (err) {
    await unlink(temp).catch(() => undefined)
    throw err
  }
  await syncDirectory(dir)
  return size
}

/**
 * Save `data` into `dir` under a free version of `wantedName` (`a.txt`, then
 * `a_1.txt`, ...) without replacing anything or leaving a torn file: the bytes
 * go into a hidden temp file in `dir` first, are synced, and the temp file is
 * then linked to its final name, which fails rather than replaces when
 * another writer took the name meanwhile (or a symlink sits there). Where hard
 * links are not supported, the name is reserved with an exclusive create and
 * the temp file renamed over it. On any failure (the limit included) the temp
 * file is removed.
 *
 * @example
 *   const { name, size } = await createUnderFreeName(dir, 'report.pdf', part.file, { maxBytes: 100e6, tooLarge })
 */
export async function createUnderFreeName(
  dir: string,
  wantedName: string,
  data: Data,
  limit?: ByteLimit,
  checkName?: (name: string) => Promise<void>,
): Promise<{ name: string; size: number }> {
  const { temp, size } = await writeTemp(dir, data, limit)
  try {
    const name = await claimName(dir, wantedName, temp, checkName)
    await unlink(temp).catch(() => undefined) // gone already after the rename fallback
    await syncDirectory(dir)
    return { name, size }
  } finally {
    await unlink(temp).catch(() => undefined)
  }
}

/**
 * A pass-through that fails with `limit.tooLarge` once more than
 * `limit.maxBytes` bytes went through it (no limit without one).
 *
 * @example
 *   const limited = pipeline(part.file, byteCounter({ maxBytes: 1e6, tooLarge }), () => {})
 */
export function byteCounter(limit: ByteLimit | undefined): Transform {
  let size = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length
      if (limit?.maxBytes != null && size > limit.maxBytes) callback(limit.tooLarge(size))
      else callback(null, chunk)
    },
  })
}

/** The data in a new, synced, hidden temp file in `dir`; removed again if anything fails. */
async function writeTemp(dir: string, data: Data, limit?: ByteLimit): Promise<{ temp: string; size: number }> {
  // Short and hidden: a long target name plus a suffix could pass NAME_MAX.
  const temp = path.join(dir, `.berth-tmp-${randomBytes(8).toString('hex')}`)
  const handle = await open(temp, 'wx')
  let size = 0
  try {
    try {
      if (data instanceof Readable) {
        await pipeline(data, byteCounter(limit), async (chunks: AsyncIterable<Buffer>) => {
          for await (const chunk of chunks) {
            size += chunk.length
            await handle.write(chunk)
          }
        })
      } else {
        size = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength
        if (limit?.maxBytes != null && size > limit.maxBytes) throw limit.tooLarge(size)
        await handle.writeFile(data)
      }
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch (err) {
    await unlink(temp).catch(() => undefined)
    throw err
  }
  return { temp, size }
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

import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'

/**
 * Bytes on their way to the bucket, counted and hashed before anything is
 * uploaded: small ones in memory, large ones in a temporary file. So the
 * quota is checked on the real size (a stream is refused as soon as it
 * passes the room left, and nothing reaches the bucket), the index gets the
 * SHA-256, and a large file can be sent in parts that are retried on their
 * own.
 */
export interface Spooled {
  size: number
  sha256: string
  /** The bytes in memory, when small. */
  buffer: Buffer | null
  /** A fresh stream of the bytes (from memory or the temporary file). */
  open(): Readable
  /** Bytes `[start, end)`. */
  slice(start: number, end: number): Promise<Buffer>
  /** Removes the temporary file, if any. */
  dispose(): Promise<void>
}

export class SpoolLimitExceeded extends Error {
  constructor(readonly received: number) {
    super(`more than the room left (${received} bytes received)`)
  }
}

/** Up to this size a write stays in memory and goes up in one PUT. */
export const MEMORY_LIMIT = 8 * 1024 * 1024

/**
 * Spool `data`; `room` is the most it may hold (null: no limit), beyond
 * which `SpoolLimitExceeded` is thrown and the rest of the stream is not read.
 */
export async function spool(
  data: Uint8Array | string | Readable,
  room: number | null,
  tempDir: string,
): Promise<Spooled> {
  if (typeof data === 'string' || data instanceof Uint8Array) {
    const buffer =
      typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    if (room !== null && buffer.byteLength > room) throw new SpoolLimitExceeded(buffer.byteLength)
    return inMemory(buffer)
  }
  const hash = createHash('sha256')
  const chunks: Buffer[] = []
  let size = 0
  let file: { path: string; handle: FileHandle } | null = null
  try {
    for await (const chunk of data) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
      size += bytes.byteLength
      if (room !== null && size > room) {
        data.destroy()
        throw new SpoolLimitExceeded(size)
      }
      hash.update(bytes)
      if (file) {
        await file.handle.write(bytes)
      } else {
        chunks.push(bytes)
        if (size > MEMORY_LIMIT) {
          await mkdir(tempDir, { recursive: true })
          const name = path.join(tempDir, `.berth-spool-${process.pid}-${randomBytes(8).toString('hex')}`)
          file = { path: name, handle: await open(name, 'wx', 0o600) }
          for (const pending of chunks.splice(0)) await file.handle.write(pending)
        }
      }
    }
  } catch (error) {
    if (file) {
      await file.handle.close().catch(() => undefined)
      await rm(file.path, { force: true })
    }
    throw error
  }
  if (!file) {
    const buffer = Buffer.concat(chunks)
    return inMemory(buffer, hash.digest('hex'))
  }
  await file.handle.close()
  const temp = file.path
  return {
    size,
    sha256: hash.digest('hex'),
    buffer: null,
    open: () => createReadStream(temp),
    async slice(start, end) {
      const handle = await open(temp, 'r')
      try {
        const buffer = Buffer.alloc(end - start)
        const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, start)
        return buffer.subarray(0, bytesRead)
      } finally {
        await handle.close()
      }
    },
    dispose: () => rm(temp, { force: true }),
  }
}

function inMemory(buffer: Buffer, sha256 = createHash('sha256').update(buffer).digest('hex')): Spooled {
  return {
    size: buffer.byteLength,
    sha256,
    buffer,
    open: () => Readable.from([buffer]),
    slice: async (start, end) => buffer.subarray(start, end),
    dispose: async () => {},
  }
}

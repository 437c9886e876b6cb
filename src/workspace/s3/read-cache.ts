import { createHash, randomBytes } from 'node:crypto'
import { mkdir, rm, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { reportCacheLookup } from './request-observer.js'

export interface CachedFile {
  /** The local copy. */
  file: string
  size: number
  mtimeMs: number
}

/**
 * Small files read from the bucket, kept on local disk so that serving the
 * same file again (a deployed site's assets, an image in the chat) costs no
 * request to S3. A copy is used only while its ETag is the one the file
 * index holds, so a write through berth on any instance makes it stale at
 * once. Bounded: files up to `maxFileBytes`, `maxBytes` in all, the least
 * recently used dropped first. In this process only; the folder is emptied
 * when the cache is made.
 */
export class ReadCache {
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  private readonly entries = new Map<string, CachedFile & { etag: string }>()
  private total = 0
  private ready: Promise<void> | null = null

  constructor(
    private readonly dir: string,
    readonly maxBytes: number,
    readonly maxFileBytes: number,
  ) {}

  /** The copy of `objectKey` when it holds `etag`, or null. */
  lookup(objectKey: string, etag: string): CachedFile | null {
    const entry = this.entries.get(objectKey)
    const hit = entry !== undefined && entry.etag === etag
    reportCacheLookup(hit) // for /metrics' hit ratio
    if (!hit) return null
    this.entries.delete(objectKey)
    this.entries.set(objectKey, entry)
    return entry
  }

  /** Keep a copy (a new file each time: a reader of the old copy keeps reading it). */
  async store(objectKey: string, etag: string, mtimeMs: number, bytes: Buffer): Promise<void> {
    if (bytes.byteLength > this.maxFileBytes || bytes.byteLength > this.maxBytes) return
    this.ready ??= rm(this.dir, { recursive: true, force: true }).then(async () => {
      await mkdir(this.dir, { recursive: true })
    })
    await this.ready
    const name = `${createHash('sha256').update(objectKey).digest('hex').slice(0, 32)}-${randomBytes(4).toString('hex')}`
    const file = path.join(this.dir, name)
    await writeFile(file, bytes)
    this.forget(objectKey)
    this.entries.set(objectKey, { file, size: bytes.byteLength, mtimeMs, etag })
    this.total += bytes.byteLength
    for (const [key, entry] of this.entries) {
      if (this.total <= this.maxBytes) break
      this.drop(key, entry)
    }
  }

  forget(objectKey: string): void {
    const entry = this.entries.get(objectKey)
    if (entry) this.drop(objectKey, entry)
  }

  /** Bytes held, for tests and metrics. */
  get size(): number {
    return this.total
  }

  private drop(objectKey: string, entry: CachedFile): void {
    this.entries.delete(objectKey)
    this.total -= entry.size
    void unlink(entry.file).catch(() => undefined)
  }
}

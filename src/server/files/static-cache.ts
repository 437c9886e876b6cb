import { promisify } from 'node:util'
import { brotliCompress, gzip, constants as zlibConstants } from 'node:zlib'
import mime from 'mime-types'
import type { WorkspaceKey } from '../../workspace/workspace-storage.js'

const gzipAsync = promisify(gzip)
const brotliAsync = promisify(brotliCompress)

// Text-like types worth compressing; images, video, fonts and archives are compressed already.
const COMPRESSIBLE = /^(text\/|application\/(javascript|json|xml|wasm|manifest\+json|ld\+json)|image\/svg\+xml)/
/** Below this, compression saves less than the header costs. */
const MIN_COMPRESS_BYTES = 1024

/** A deployed file held in memory, with everything a response needs precomputed. */
export interface StaticFile {
  /** The workspace it was read from. */
  key: WorkspaceKey
  /** The workspace path it was read from (a folder URL's `index.html`). */
  path: string
  body: Buffer
  contentType: string
  etag: string
  lastModified: string
  mtimeMs: number
  compressible: boolean
  /** When `etag` was last confirmed by the storage's `stat` (performance.now() ms). */
  checkedAt: number
  /** Response headers every answer about this file carries, as a flat `[name, value, ...]` list for writeHead. */
  headers: string[]
  /** `headers` plus ETag and length: the whole header block of a plain 200. */
  plainHeaders: string[]
  encoded: { gzip?: Promise<Buffer>; br?: Promise<Buffer> }
}

/** The `Content-Type` of a file name, with `charset=utf-8` for text. */
export function contentTypeOf(name: string): string {
  return mime.contentType(name.slice(name.lastIndexOf('/') + 1)) || 'application/octet-stream'
}

export function isCompressible(contentType: string): boolean {
  return COMPRESSIBLE.test(contentType)
}

/**
 * Small deployed files kept in memory, oldest out first, keyed by URL path.
 * An entry is served only while the storage's `stat` of its file, at most
 * `revalidateMs` old, shows the same ETag (locally: inode, size and mtime), so
 * a changed file is read again; compressed forms are made once per version,
 * on demand.
 *
 * @example
 *   const cache = new StaticCache({ maxBytes: 64 * 1024 * 1024, maxFileBytes: 512 * 1024 })
 *   const hit = cache.get(url)
 *   if (hit && hit.etag === (await storage.stat(hit.key, hit.path))?.etag) send(hit.body)
 */
export class StaticCache {
  private readonly entries = new Map<string, StaticFile>()
  private bytes = 0

  constructor(readonly limits: { maxBytes: number; maxFileBytes: number }) {}

  get(key: string): StaticFile | undefined {
    return this.entries.get(key)
  }

  set(key: string, entry: StaticFile): void {
    if (entry.body.length > this.limits.maxFileBytes) return
    this.delete(key)
    this.entries.set(key, entry)
    this.bytes += entry.body.length
    for (const [oldKey] of this.entries) {
      if (this.bytes <= this.limits.maxBytes) break
      this.delete(oldKey)
    }
  }

  delete(key: string): void {
    const old = this.entries.get(key)
    if (old === undefined) return
    this.entries.delete(key)
    this.bytes -= old.body.length
  }

  get size(): number {
    return this.entries.size
  }
}

/**
 * The body in a content coding, computed once per file version (concurrent
 * requests share the work), or `null` when the file is not worth compressing.
 */
export function encodedBody(entry: StaticFile, encoding: 'gzip' | 'br'): Promise<Buffer> | null {
  if (!entry.compressible || entry.body.length < MIN_COMPRESS_BYTES) return null
  let pending = entry.encoded[encoding]
  if (pending === undefined) {
    pending =
      encoding === 'br'
        ? brotliAsync(entry.body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9 } })
        : gzipAsync(entry.body, { level: 9 })
    entry.encoded[encoding] = pending
  }
  return pending
}

export { MIN_COMPRESS_BYTES }

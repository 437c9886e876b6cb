import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { WorkspaceEntry, WorkspaceKey, WorkspaceStorage } from '../../workspace/workspace-storage.js'
import { parseSitePath, type SitePath } from './site-path.js'
import { notFound, SITE_HEADERS, sendCached, sendCachedPlain, sendLarge } from './site-responses.js'
import { contentTypeOf, isCompressible, StaticCache, type StaticFile } from './static-cache.js'

export { SITE_HEADERS } from './site-responses.js'

export interface SiteServerOptions {
  /** Memory for cached files in all (default 64 MiB). */
  cacheBytes?: number
  /** Largest file kept in memory (default 512 KiB); bigger ones are streamed from the storage. */
  cacheFileBytes?: number
  /**
   * How long a cached file is served before the storage's `stat` is checked again
   * (default 500 ms): a changed file shows within this time. 0 checks on
   * every request.
   */
  revalidateMs?: number
}

type Found =
  | { kind: 'file'; entry: StaticFile }
  | { kind: 'large'; key: WorkspaceKey; entry: WorkspaceEntry }
  | { kind: 'redirect' }
  | null

/**
 * Serves deployed sites from session workspaces the way a static web server
 * does: `index.html` for folders, ETag and Last-Modified with 304s, single
 * byte ranges, gzip/br for text, and no listings or dotfiles. Small files are
 * answered from memory, keyed by the raw URL path; everything else is read
 * through the workspace storage (the session id is the workspace key), so a
 * symlink leading out is a 404.
 *
 * @example
 *   const sites = new SiteServer(context.workspaceStorage)
 *   app.get('/workspace/*', (request, reply) => sites.handle(request, reply, '/workspace/'))
 */
export class SiteServer {
  private readonly cache: StaticCache
  private readonly revalidateMs: number

  constructor(
    private readonly storage: WorkspaceStorage,
    options: SiteServerOptions = {},
  ) {
    this.cache = new StaticCache({
      maxBytes: options.cacheBytes ?? 64 * 1024 * 1024,
      maxFileBytes: options.cacheFileBytes ?? 512 * 1024,
    })
    this.revalidateMs = options.revalidateMs ?? 500
  }

  /**
   * Answer one request. A cached file still within its revalidation time is
   * sent synchronously (no promise at all on the hot path); anything else
   * goes through `serve`.
   */
  handle(request: FastifyRequest, reply: FastifyReply, prefix: string): Promise<unknown> | undefined {
    const url = request.raw.url ?? ''
    const key = cacheKey(prefix, url)
    const hit = this.cache.get(key)
    if (this.isFresh(hit)) {
      if (sendCachedPlain(request.headers, reply.raw, hit)) {
        reply.hijack()
        return undefined
      }
      return sendCached(request, reply, hit)
    }
    return this.serve(request, reply, prefix, url, key, hit)
  }

  /**
   * The same answer as `handle` for the commonest request, a GET or HEAD of a
   * `/workspace/` file in memory with no validators, range or compression,
   * given on the raw request before the web framework sees it (its routing,
   * hooks and request objects cost as much as the rest of the response).
   * Returns false, having done nothing, for anything else.
   */
  serveFromMemory(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url
    if (url === undefined || !url.startsWith(WORKSPACE_PREFIX) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      return false
    }
    const hit = this.cache.get(cacheKey(WORKSPACE_PREFIX, url))
    return this.isFresh(hit) && sendCachedPlain(req.headers, res, hit)
  }

  /** A cached file still within its revalidation time. */
  private isFresh(hit: StaticFile | undefined): hit is StaticFile {
    return hit !== undefined && performance.now() - hit.checkedAt < this.revalidateMs
  }

  private async serve(
    request: FastifyRequest,
    reply: FastifyReply,
    prefix: string,
    url: string,
    key: string,
    hit: StaticFile | undefined,
  ): Promise<unknown> {
    if (hit !== undefined && (await this.stillValid(key, hit))) return sendCached(request, reply, hit)

    reply.headers(SITE_HEADERS)
    const site = parseSitePath(url, prefix)
    if (site === null) return notFound(reply)
    let found: Found
    try {
      found = await this.find(site)
    } catch {
      found = null // outside the workspace, unreadable, vanished: the same plain 404 as a missing file
    }
    if (found === null) return notFound(reply)
    if (found.kind === 'redirect') {
      // A folder URL needs its slash so the page's relative links resolve inside it.
      return reply.code(301).header('location', `${site.rawPath}/${site.rawQuery}`).send()
    }
    if (found.kind === 'large') return sendLarge(request, reply, this.storage, found.key, found.entry)
    this.cache.set(key, found.entry)
    return sendCached(request, reply, found.entry)
  }

  /** A cached entry stands while the storage reports the same version of its file. */
  private async stillValid(key: string, entry: StaticFile): Promise<boolean> {
    const now = await this.storage.stat(entry.key, entry.path).catch(() => null)
    if (now?.type === 'file' && now.etag === entry.etag) {
      entry.checkedAt = performance.now()
      return true
    }
    this.cache.delete(key)
    return false
  }

  private async find(site: SitePath): Promise<Found> {
    const key = site.sessionId
    let entry = await this.storage.stat(key, site.relative)
    if (entry === null) return null
    if (entry.type === 'directory') {
      if (!site.trailingSlash) return { kind: 'redirect' }
      entry = await this.storage.stat(key, site.relative === '' ? 'index.html' : `${site.relative}/index.html`)
      if (entry === null) return null // no directory listings
    } else if (site.trailingSlash) {
      return null // `page.html/` is not a folder
    }
    if (entry.type !== 'file') return null
    if (entry.size > this.cache.limits.maxFileBytes) return { kind: 'large', key, entry }
    return { kind: 'file', entry: await readEntry(this.storage, key, entry.path) }
  }
}

/** Where deployed sites live on the main origin: the URL `static_deploy` hands out. */
export const WORKSPACE_PREFIX = '/workspace/'

/** Cache entries are keyed by the raw URL path (query left out) under the prefix it was served at. */
function cacheKey(prefix: string, url: string): string {
  const queryAt = url.indexOf('?')
  return `${prefix}|${queryAt < 0 ? url : url.slice(0, queryAt)}`
}

/** A small file read whole, with its response headers precomputed. */
async function readEntry(storage: WorkspaceStorage, key: WorkspaceKey, path: string): Promise<StaticFile> {
  // The version comes with the bytes (the storage reports what it opened), so the two belong together.
  const { entry, body: stream } = await storage.read(key, path)
  const body = Buffer.alloc(entry.size)
  let filled = 0
  for await (const chunk of stream) {
    filled += (chunk as Buffer).copy(body, filled)
    if (filled >= entry.size) break
  }
  stream.destroy()
  const contentType = contentTypeOf(path)
  const compressible = isCompressible(contentType)
  const lastModified = new Date(entry.mtimeMs).toUTCString()
  const headers = [
    ...Object.entries(SITE_HEADERS).flat(),
    ...['content-type', contentType, 'last-modified', lastModified],
    ...['accept-ranges', 'bytes', 'cache-control', 'no-cache'],
    ...(compressible ? ['vary', 'Accept-Encoding'] : []),
  ]
  return {
    key,
    path,
    body: body.subarray(0, filled),
    contentType,
    etag: entry.etag,
    lastModified,
    mtimeMs: entry.mtimeMs,
    compressible,
    checkedAt: performance.now(),
    headers,
    plainHeaders: [...headers, 'etag', entry.etag, 'content-length', String(filled)],
    encoded: {},
  }
}

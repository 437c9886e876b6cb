import { type Stats, stat as statCallback } from 'node:fs'
import { open } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Workspaces } from '../../workspace/workspaces.js'
import { parseSitePath, type SitePath } from './site-path.js'
import { notFound, SITE_HEADERS, sendCached, sendCachedPlain, sendLarge } from './site-responses.js'
import { contentTypeOf, isCompressible, StaticCache, type StaticFile, versionOf } from './static-cache.js'

export { SITE_HEADERS } from './site-responses.js'

export interface SiteServerOptions {
  /** Memory for cached files in all (default 64 MiB). */
  cacheBytes?: number
  /** Largest file kept in memory (default 512 KiB); bigger ones are streamed from disk. */
  cacheFileBytes?: number
  /**
   * How long a cached file is served before its `stat` is checked again
   * (default 500 ms): a changed file shows within this time. 0 checks on
   * every request.
   */
  revalidateMs?: number
}

type Found = { kind: 'file'; entry: StaticFile } | { kind: 'large'; file: string } | { kind: 'redirect' } | null

/**
 * Serves deployed sites from session workspaces the way a static web server
 * does: `index.html` for folders, ETag and Last-Modified with 304s, single
 * byte ranges, gzip/br for text, and no listings or dotfiles. Small files are
 * answered from memory, keyed by the raw URL path; everything else is
 * resolved through the workspace module, so a symlink leading out is a 404.
 *
 * @example
 *   const sites = new SiteServer(workspaces)
 *   app.get('/workspace/*', (request, reply) => sites.handle(request, reply, '/workspace/'))
 */
export class SiteServer {
  private readonly cache: StaticCache
  private readonly revalidateMs: number

  constructor(
    private readonly workspaces: Workspaces,
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
    if (found.kind === 'large') return sendLarge(request, reply, found.file)
    this.cache.set(key, found.entry)
    return sendCached(request, reply, found.entry)
  }

  /** A cached entry stands while its file's `stat` is unchanged. */
  private async stillValid(key: string, entry: StaticFile): Promise<boolean> {
    const info = await statOrNull(entry.file)
    if (info !== null && versionOf(info).identity === entry.identity) {
      entry.checkedAt = performance.now()
      return true
    }
    this.cache.delete(key)
    return false
  }

  private async find(site: SitePath): Promise<Found> {
    let file = await this.workspaces.resolve(site.sessionId, site.relative, { allowRoot: true })
    let info = await statOrNull(file)
    if (info === null) return null
    if (info.isDirectory()) {
      if (!site.trailingSlash) return { kind: 'redirect' }
      const index = site.relative === '' ? 'index.html' : `${site.relative}/index.html`
      file = await this.workspaces.resolve(site.sessionId, index)
      info = await statOrNull(file)
      if (info === null) return null // no directory listings
    } else if (site.trailingSlash) {
      return null // `page.html/` is not a folder
    }
    if (!info.isFile()) return null
    if (info.size > this.cache.limits.maxFileBytes) return { kind: 'large', file }
    const entry = await readEntry(file)
    return entry === null ? null : { kind: 'file', entry }
  }
}

/** Where deployed sites live on the main origin: the URL `static_deploy` hands out. */
export const WORKSPACE_PREFIX = '/workspace/'

/** Cache entries are keyed by the raw URL path (query left out) under the prefix it was served at. */
function cacheKey(prefix: string, url: string): string {
  const queryAt = url.indexOf('?')
  return `${prefix}|${queryAt < 0 ? url : url.slice(0, queryAt)}`
}

async function readEntry(file: string): Promise<StaticFile | null> {
  const handle = await open(file, 'r')
  try {
    // Facts from the open handle, so the bytes and the version they are filed under belong together.
    const info = await handle.stat()
    if (!info.isFile()) return null
    const body = Buffer.alloc(info.size)
    const { bytesRead } = await handle.read(body, 0, info.size, 0)
    const contentType = contentTypeOf(file)
    const compressible = isCompressible(contentType)
    const lastModified = info.mtime.toUTCString()
    const headers = [
      ...Object.entries(SITE_HEADERS).flat(),
      ...['content-type', contentType, 'last-modified', lastModified],
      ...['accept-ranges', 'bytes', 'cache-control', 'no-cache'],
      ...(compressible ? ['vary', 'Accept-Encoding'] : []),
    ]
    const version = versionOf(info)
    return {
      file,
      body: body.subarray(0, bytesRead),
      contentType,
      ...version,
      lastModified,
      mtimeMs: info.mtimeMs,
      compressible,
      checkedAt: performance.now(),
      headers,
      plainHeaders: [...headers, 'etag', version.etag, 'content-length', String(bytesRead)],
      encoded: {},
    }
  } finally {
    await handle.close()
  }
}

// The callback form skips the promise machinery: this runs on cached hits.
function statOrNull(file: string): Promise<Stats | null> {
  return new Promise((resolve) => statCallback(file, (error, info) => resolve(error ? null : info)))
}

import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import { createGzip } from 'node:zlib'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { WorkspaceEntry, WorkspaceKey, WorkspaceStorage } from '../../workspace/workspace-storage.js'
import { parseRange, preferredEncoding } from './http-range.js'
import { contentTypeOf, encodedBody, isCompressible, type StaticFile } from './static-cache.js'

/**
 * On every response of a deployed site: the page runs its scripts, forms and
 * popups, but in an opaque origin, so it cannot read berth's cookies or
 * storage, or call its API as the user (reference weak point §9.12).
 */
export const SITE_HEADERS = {
  'content-security-policy': 'sandbox allow-scripts allow-forms allow-popups allow-modals',
  'x-content-type-options': 'nosniff',
} as const

type Headers = FastifyRequest['headers']

/**
 * The hot path: a request with no validators, range or accepted encoding
 * (or for a file not worth compressing) gets the precomputed 200 in one
 * `writeHead`. Returns false, having done nothing, for anything else.
 */
export function sendCachedPlain(headers: IncomingHttpHeaders, res: ServerResponse, entry: StaticFile): boolean {
  if (headers.range !== undefined || headers['if-none-match'] !== undefined) return false
  if (headers['if-modified-since'] !== undefined) return false
  if (entry.compressible && headers['accept-encoding'] !== undefined) return false
  res.writeHead(200, entry.plainHeaders)
  res.end(entry.body)
  return true
}

/**
 * Answer from a cached file straight on the raw response (the hot path of
 * static hosting: one `writeHead` with precomputed headers, no per-request
 * header objects). fastify's onResponse hooks still run; onSend hooks do not.
 */
export async function sendCached(request: FastifyRequest, reply: FastifyReply, entry: StaticFile): Promise<undefined> {
  const headers = request.headers
  const encoding = entry.compressible ? preferredEncoding(headers['accept-encoding']) : null
  const pending = encoding === null ? null : encodedBody(entry, encoding)
  const encoded = pending === null ? null : await pending.catch(() => null)
  const etag = encoded === null ? entry.etag : `${entry.etag.slice(0, -1)}-${encoding}"`
  reply.hijack()
  const res = reply.raw
  if (notModified(headers, etag, entry.mtimeMs)) {
    res.writeHead(304, [...entry.headers, 'etag', etag])
    res.end()
    return undefined
  }
  const size = entry.body.length
  const range = rangeFor(headers, size, entry.etag)
  if (range === 'unsatisfiable') {
    res.writeHead(416, [
      ...withType(entry.headers, 'text/plain; charset=utf-8'),
      ...['content-range', `bytes */${size}`, 'content-length', '22'],
    ])
    res.end('Range not satisfiable\n')
  } else if (range !== null) {
    const length = range.end - range.start + 1
    res.writeHead(206, [
      ...entry.headers,
      ...['etag', entry.etag, 'content-range', `bytes ${range.start}-${range.end}/${size}`],
      ...['content-length', String(length)],
    ])
    res.end(entry.body.subarray(range.start, range.end + 1))
  } else if (encoded !== null) {
    res.writeHead(200, [
      ...entry.headers,
      ...['etag', etag, 'content-encoding', encoding as string, 'content-length', String(encoded.length)],
    ])
    res.end(encoded)
  } else {
    res.writeHead(200, [...entry.headers, 'etag', etag, 'content-length', String(size)])
    res.end(entry.body)
  }
  return undefined
}

/**
 * Files too big for the cache stream from the storage (one range when asked);
 * text is gzipped on the fly when accepted. Validators, 304, 416 and HEAD are
 * answered from `entry` without opening the file; the bytes sent are described
 * by the version the storage opened.
 */
export async function sendLarge(
  request: FastifyRequest,
  reply: FastifyReply,
  storage: WorkspaceStorage,
  key: WorkspaceKey,
  entry: WorkspaceEntry,
): Promise<FastifyReply> {
  const { etag } = entry
  const contentType = contentTypeOf(entry.path)
  const compressible = isCompressible(contentType)
  reply.headers({
    'content-type': contentType,
    etag,
    'last-modified': new Date(entry.mtimeMs).toUTCString(),
    'accept-ranges': 'bytes',
    'cache-control': 'no-cache',
  })
  if (compressible) reply.header('vary', 'Accept-Encoding')
  const range = rangeFor(request.headers, entry.size, etag)
  const gzip = compressible && range === null && preferredEncoding(request.headers['accept-encoding']) !== null
  const tag = gzip ? `${etag.slice(0, -1)}-gzip"` : etag
  if (notModified(request.headers, tag, entry.mtimeMs)) return reply.code(304).header('etag', tag).send()
  if (range === 'unsatisfiable') return unsatisfiable(reply, entry.size)
  if (request.method === 'HEAD') {
    if (gzip) return reply.header('etag', tag).header('content-encoding', 'gzip').send()
    const length = range === null ? entry.size : range.end - range.start + 1
    return reply
      .code(range === null ? 200 : 206)
      .header('content-length', length)
      .send()
  }
  const read = await storage.read(key, entry.path, range === null ? {} : { range })
  const opened = read.entry
  reply.header('etag', opened.etag).header('last-modified', new Date(opened.mtimeMs).toUTCString())
  if (read.range !== undefined) {
    return reply
      .code(206)
      .header('content-range', `bytes ${read.range.start}-${read.range.end}/${opened.size}`)
      .header('content-length', read.range.end - read.range.start + 1)
      .send(read.body)
  }
  if (gzip) {
    // Streaming brotli is slow at any useful quality; gzip is what every client also takes.
    reply.header('content-encoding', 'gzip').header('etag', `${opened.etag.slice(0, -1)}-gzip"`)
    return reply.send(read.body.pipe(createGzip({ level: 6 })))
  }
  return reply.header('content-length', opened.size).send(read.body)
}

export function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).type('text/plain; charset=utf-8').send('Not found\n')
}

function unsatisfiable(reply: FastifyReply, size: number): FastifyReply {
  return reply
    .code(416)
    .header('content-range', `bytes */${size}`)
    .type('text/plain; charset=utf-8')
    .send('Range not satisfiable\n')
}

function notModified(headers: Headers, etag: string, mtimeMs: number): boolean {
  const ifNoneMatch = headers['if-none-match']
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() === '*') return true
    return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)
  }
  const since = headers['if-modified-since']
  if (since === undefined) return false
  const time = Date.parse(since)
  return !Number.isNaN(time) && Math.floor(mtimeMs / 1000) <= Math.floor(time / 1000)
}

/** The range to send, honouring `If-Range` (a changed file is sent whole). */
function rangeFor(headers: Headers, size: number, etag: string) {
  const ifRange = headers['if-range']
  if (typeof ifRange === 'string' && ifRange.trim() !== etag) return null
  return parseRange(headers.range, size)
}

/** The same headers with another content type (for a 416's text body). */
function withType(headers: string[], type: string): string[] {
  const out = headers.slice()
  const at = out.indexOf('content-type')
  if (at >= 0) out[at + 1] = type
  return out
}

import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import mime from 'mime-types'
import type { ServerContext } from '../context.js'
import { sendError } from '../errors.js'

const gzipAsync = promisify(gzip)

/** `dist/web` under the package root, which is three levels above this file in `src/` (tsx) and `dist/` alike. */
export const DEFAULT_WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..', 'dist', 'web')

/** Vite's hashed asset names: only these are looked up on disk. */
const ASSET_NAME = /^[A-Za-z0-9._-]{1,200}$/
const IMMUTABLE = 'public, max-age=31536000, immutable'
const MISSING_BUILD =
  'The berth web UI is not built yet. Run `npm run build` in the berth folder (it builds the server and the UI ' +
  'into dist/), then reload this page. The API, WebSocket and deployed sites work without it.'

// The UI's own policy: its scripts only, sockets to this server, deployed sites in frames (possibly on their own origin).
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self' ws: wss:",
  "frame-src 'self' http: https:",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'self'",
].join('; ')

interface CachedFile {
  body: Buffer
  gzipped: Buffer | null
  type: string
}

/**
 * The React UI built by Vite into `dist/web`: `index.html` for `/`,
 * `/session/*`, `/share/*` and `/eval` (client-side routes), hashed `/assets/*`
 * cached for a year. Only these paths are claimed, so `/api`, `/ws`,
 * `/workspace`, health and metrics are never shadowed. Files are read once
 * and kept in memory with their gzip form; a missing build says plainly
 * to run `npm run build`.
 *
 * @example
 *   await app.register(webUiRoutes, { context }) // or { context, root: '/tmp/built-ui' } in tests
 */
export const webUiRoutes: FastifyPluginAsync<{ context: ServerContext; root?: string }> = async (app, options) => {
  const root = options.root ?? DEFAULT_WEB_ROOT
  const cache = new Map<string, Promise<CachedFile | null>>()

  const load = (relative: string): Promise<CachedFile | null> => {
    let entry = cache.get(relative)
    if (!entry) {
      entry = readCached(path.join(root, relative))
      cache.set(relative, entry)
      // A missing file is not remembered: the build may appear while the server runs.
      void entry.then((file) => file === null && cache.delete(relative))
    }
    return entry
  }

  const sendIndex = async (request: FastifyRequest, reply: FastifyReply) => {
    const file = await load('index.html')
    if (file === null) {
      return reply
        .code(503)
        .header('content-type', 'text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(MISSING_BUILD)
    }
    reply
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
    return send(request, reply, file)
  }

  const hide = { schema: { hide: true } }
  for (const url of ['/', '/index.html', '/session/*', '/share/*', '/eval', '/eval/*']) app.get(url, hide, sendIndex)

  app.get('/assets/:name', hide, async (request, reply) => {
    const { name } = request.params as { name: string }
    const file = ASSET_NAME.test(name) && !name.startsWith('.') ? await load(path.join('assets', name)) : null
    if (file === null) return sendError(reply, 'FILE_NOT_FOUND', 'No such asset.')
    reply.header('cache-control', IMMUTABLE).header('x-content-type-options', 'nosniff')
    return send(request, reply, file)
  })

  app.get('/favicon.svg', hide, async (request, reply) => {
    const file = await load('favicon.svg')
    if (file === null) return reply.code(404).send()
    reply.header('cache-control', 'public, max-age=86400')
    return send(request, reply, file)
  })
}

function send(request: FastifyRequest, reply: FastifyReply, file: CachedFile): FastifyReply {
  reply.header('content-type', file.type).header('vary', 'accept-encoding')
  const accepts = String(request.headers['accept-encoding'] ?? '')
  if (file.gzipped && /\bgzip\b/.test(accepts)) return reply.header('content-encoding', 'gzip').send(file.gzipped)
  return reply.send(file.body)
}

async function readCached(file: string): Promise<CachedFile | null> {
  let body: Buffer
  try {
    body = await readFile(file)
  } catch {
    return null
  }
  const type = mime.contentType(path.basename(file)) || 'application/octet-stream'
  const compressible = /^(text\/|application\/(javascript|json)|image\/svg\+xml)/.test(type) && body.length > 1024
  return { body, gzipped: compressible ? await gzipAsync(body, { level: 9 }) : null, type }
}

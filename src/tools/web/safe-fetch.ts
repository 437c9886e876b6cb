import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import type { Readable } from 'node:stream'
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'
import { BerthError } from '../../core/errors.js'
import { type AddressPolicy, checkLiteralHost, guardedLookup } from './address-guard.js'

/** A browser's User-Agent: DuckDuckGo and many sites answer bare clients with a bot check or nothing. */
export const BROWSER_USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

export interface SafeFetchOptions {
  /** The run's signal: aborting it ends the request (`TOOL_ABORTED`). */
  signal: AbortSignal
  /** For the whole exchange, redirects and body included. */
  timeoutMs: number
  /** Body bytes kept (after decompression); the rest is never downloaded and `truncated` is set. */
  maxBytes: number
  /** Reach loopback, private and link-local addresses too (see address-guard.ts). */
  allowPrivate: boolean
  /** Without `allowPrivate`: which addresses may be reached; default public ones (tests narrow it). */
  allowAddress?: AddressPolicy
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Redirects followed before giving up; default 5. */
  maxRedirects?: number
}

export interface SafeFetchResult {
  /** The address finally answered, after redirects. */
  url: string
  status: number
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>
  body: Buffer
  truncated: boolean
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

/**
 * GET or POST a URL from berth's process on the model's behalf: http(s) only,
 * public addresses only unless allowed (checked at connect time and on every
 * redirect hop), redirects followed, gzip/deflate/br decoded, the body capped
 * and the whole exchange bounded by a timeout. Errors are `WEB_REQUEST_FAILED`
 * written for the model, or `TOOL_ABORTED` when the run was cancelled.
 * node:http rather than fetch: only it lets the address check sit where the
 * socket connects.
 *
 * @example
 *   const page = await safeFetch('https://example.com', { signal, timeoutMs: 20_000, maxBytes: 5e6, allowPrivate: false })
 *   page.headers['content-type'] // 'text/html; charset=UTF-8'
 */
export async function safeFetch(url: string, options: SafeFetchOptions): Promise<SafeFetchResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs)
  const signal = AbortSignal.any([options.signal, timeout])
  let current = parseWebUrl(url)
  let method = options.method ?? 'GET'
  let body = options.body
  const maxRedirects = options.maxRedirects ?? 5
  try {
    for (let hop = 0; ; hop++) {
      if (!options.allowPrivate) checkLiteralHost(current.hostname, options.allowAddress)
      const response = await requestOnce(current, method, body, options, signal)
      const location = response.headers.location
      if (REDIRECTS.has(response.statusCode ?? 0) && typeof location === 'string') {
        response.destroy()
        if (hop >= maxRedirects) {
          throw new BerthError('WEB_REQUEST_FAILED', `${url} redirected more than ${maxRedirects} times.`)
        }
        current = parseWebUrl(new URL(location, current).toString())
        if (
          response.statusCode === 303 ||
          (method === 'POST' && response.statusCode !== 307 && response.statusCode !== 308)
        ) {
          method = 'GET'
          body = undefined
        }
        continue
      }
      const { data, truncated } = await readCapped(decoded(response), options.maxBytes, () => response.destroy())
      return {
        url: current.toString(),
        status: response.statusCode ?? 0,
        headers: flattenHeaders(response),
        body: data,
        truncated,
      }
    }
  } catch (error) {
    if (options.signal.aborted) throw new BerthError('TOOL_ABORTED', `Fetching ${url} was cancelled.`, { cause: error })
    if (timeout.aborted) {
      throw new BerthError(
        'WEB_REQUEST_FAILED',
        `Fetching ${url} timed out after ${Math.round(options.timeoutMs / 100) / 10} s.`,
        { cause: error },
      )
    }
    if (error instanceof BerthError) throw error
    const cause = (error as { cause?: unknown }).cause
    if (cause instanceof BerthError) throw cause
    throw new BerthError('WEB_REQUEST_FAILED', `Fetching ${url} failed: ${describe(error)}.`, { cause: error })
  }
}

/**
 * A `fetch` for libraries that take one (youtube-transcript), answered by
 * `safeFetch`; `rewrite` may point a URL elsewhere (a local server in tests).
 */
export function safeFetchFunction(
  options: Omit<SafeFetchOptions, 'method' | 'headers' | 'body'>,
  rewrite: (url: URL) => string = (url) => url.toString(),
): typeof fetch {
  return async (input, init) => {
    const raw = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url
    const headers = Object.fromEntries(new Headers(init?.headers).entries())
    const result = await safeFetch(rewrite(new URL(raw)), {
      ...options,
      method: init?.method === 'POST' ? 'POST' : 'GET',
      headers,
      ...(typeof init?.body === 'string' ? { body: init.body } : {}),
    })
    const empty = result.status === 204 || result.status === 205 || result.status === 304
    return new Response(empty ? null : new Uint8Array(result.body), {
      status: result.status < 200 || result.status > 599 ? 502 : result.status,
      headers: result.headers,
    })
  }
}

/** http(s) URLs only: `file:`, `data:`, `javascript:` and the like are refused. */
export function parseWebUrl(raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new BerthError('WEB_REQUEST_FAILED', `Not a web address: ${raw}. Give a full http:// or https:// URL.`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BerthError(
      'WEB_REQUEST_FAILED',
      `Refused to fetch ${raw}: only http:// and https:// addresses can be fetched, not ${url.protocol}`,
    )
  }
  return url
}

function requestOnce(
  url: URL,
  method: 'GET' | 'POST',
  body: string | undefined,
  options: SafeFetchOptions,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const request = client.request(url, {
      method,
      signal,
      // No shared agent: every request connects (and so is checked) afresh, and nothing lingers after it.
      agent: false,
      ...(options.allowPrivate ? {} : { lookup: guardedLookup(options.allowAddress) }),
      headers: {
        'user-agent': BROWSER_USER_AGENT,
        accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
        'accept-language': 'en-US,en;q=0.9',
        'accept-encoding': 'gzip, deflate, br',
        ...options.headers,
        ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
      },
    })
    request.once('response', resolve)
    // `on`, not `once`: a socket error after the answer (a cut download) must not be an unhandled 'error'.
    request.on('error', reject)
    request.end(body)
  })
}

function decoded(response: IncomingMessage): Readable {
  const encoding = String(response.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase()
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : null
  if (decoder === null) return response
  // pipe() does not pass errors on: a connection cut mid-body must end the read, not leave it waiting.
  response.once('error', (error) => decoder.destroy(error))
  return response.pipe(decoder)
}

async function readCapped(
  stream: Readable,
  maxBytes: number,
  stop: () => void,
): Promise<{ data: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    const buffer = chunk as Buffer
    if (size + buffer.byteLength > maxBytes) {
      chunks.push(buffer.subarray(0, maxBytes - size))
      stop()
      stream.destroy()
      return { data: Buffer.concat(chunks), truncated: true }
    }
    chunks.push(buffer)
    size += buffer.byteLength
  }
  return { data: Buffer.concat(chunks), truncated: false }
}

function flattenHeaders(response: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return headers
}

function describe(error: unknown): string {
  const code = (error as { code?: string }).code
  const message = error instanceof Error ? error.message : String(error)
  return code && !message.includes(code) ? `${code}: ${message}` : message
}

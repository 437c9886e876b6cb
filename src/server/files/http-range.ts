import type { ByteRange } from '../../workspace/workspace-storage.js'

export type { ByteRange }

/**
 * Read a `Range` header against a representation of `size` bytes (RFC 9110
 * §14). Returns the range to send, `'unsatisfiable'` (answer 416), or `null`
 * to ignore the header and send everything: a malformed header, another unit,
 * or several ranges (allowed by the RFC, and multipart/byteranges is not
 * worth its weight here).
 *
 * @example
 *   parseRange('bytes=0-99', 1000)  // { start: 0, end: 99 }
 *   parseRange('bytes=-100', 1000)  // { start: 900, end: 999 }
 *   parseRange('bytes=2000-', 1000) // 'unsatisfiable'
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (match === null) return null
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return null
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(size - suffix, 0), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (last !== '' && Number(last) < start) return null // invalid range-spec: ignored, as the RFC says
  if (start >= size) return 'unsatisfiable'
  return { start, end }
}

/**
 * The content coding to use for a compressible response: `br` when the
 * client accepts it, else `gzip`, else none (`q=0` counts as refused).
 *
 * @example
 *   preferredEncoding('gzip, deflate, br') // 'br'
 *   preferredEncoding('gzip;q=0, identity') // null
 */
export function preferredEncoding(header: string | undefined): 'br' | 'gzip' | null {
  if (header === undefined || header === '') return null
  let gzip = false
  for (const item of header.split(',')) {
    const [token = '', ...params] = item.trim().toLowerCase().split(';')
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue
    if (token === 'br') return 'br'
    if (token === 'gzip' || token === '*') gzip = true
  }
  return gzip ? 'gzip' : null
}

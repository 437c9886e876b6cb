import { isValidSessionId } from '../../workspace/containment.js'

/** A request for a deployed site, read from the raw URL. */
export interface SitePath {
  sessionId: string
  /** Relative to the workspace, POSIX separators, `''` for its root. */
  relative: string
  /** The URL path ended with `/` (a folder URL). */
  trailingSlash: boolean
  /** The raw path as sent, for redirects. */
  rawPath: string
  /** The raw query string including its `?`, or `''`. */
  rawQuery: string
}

/**
 * Parse `<prefix><session>/<path>` from a raw request URL, decoding each
 * segment exactly once. Returns null (answer 404) for anything that is not a
 * plain file path: a bad session id, bad percent-encoding, a decoded segment
 * holding `/`, `\` or NUL (`%2f`, `%5c`, `%00`), and any segment starting with
 * a dot (`.`, `..`, dotfiles such as `.env`). Empty segments (`a//b`) are
 * dropped, as nginx merges slashes. Containment on disk is checked after this
 * by the workspace module.
 *
 * @example
 *   parseSitePath('/workspace/abc/site/index.html?x=1', '/workspace/')
 *   // { sessionId: 'abc', relative: 'site/index.html', trailingSlash: false, rawPath: '/workspace/abc/site/index.html', rawQuery: '?x=1' }
 */
export function parseSitePath(url: string, prefix: string): SitePath | null {
  const queryAt = url.indexOf('?')
  const rawPath = queryAt < 0 ? url : url.slice(0, queryAt)
  const rawQuery = queryAt < 0 ? '' : url.slice(queryAt)
  if (!rawPath.startsWith(prefix)) return null
  const parts = rawPath.slice(prefix.length).split('/')
  const decoded: string[] = []
  for (const part of parts) {
    if (part === '') continue
    const segment = decodeSegment(part)
    if (segment === null || segment.startsWith('.') || /[/\\\0]/.test(segment)) return null
    decoded.push(segment)
  }
  const [sessionId, ...rest] = decoded
  if (sessionId === undefined || !isValidSessionId(sessionId)) return null
  return {
    sessionId,
    relative: rest.join('/'),
    trailingSlash: rawPath.endsWith('/'),
    rawPath,
    rawQuery,
  }
}

function decodeSegment(part: string): string | null {
  if (!part.includes('%')) return part
  try {
    return decodeURIComponent(part)
  } catch {
    return null
  }
}

/**
 * The URL a `static_deploy` result names: its first line is
 * `<base>/workspace/<session>/<path>` (or a relative `/workspace/…` when the
 * server knows no public URL).
 *
 * @example
 *   deployUrlOf('http://h/workspace/s1/site/\nThis folder holds 3 files') // 'http://h/workspace/s1/site/'
 */
export function deployUrlOf(result: string): string | null {
  const match = result.match(/(https?:\/\/[^\s"'<>]+|\/workspace\/[^\s"'<>]+)/)
  return match?.[1] ?? null
}

/**
 * Where this page should load a deployed site from. `/workspace/<session>/…`
 * is served by this same server whatever host the tool call saw (a public
 * URL, another port, a LAN name), so frames and links use this origin and
 * keep working; any other URL (a separate sites origin) is used as given.
 *
 * @example
 *   siteHref('http://old-host:8000/workspace/s1/site/', 'https://berth.example') // 'https://berth.example/workspace/s1/site/'
 */
export function siteHref(url: string, origin: string): string {
  try {
    const parsed = new URL(url, origin)
    return parsed.pathname.startsWith('/workspace/') ? `${origin}${parsed.pathname}${parsed.search}` : parsed.href
  } catch {
    return url
  }
}

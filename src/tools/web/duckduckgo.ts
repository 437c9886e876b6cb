import { BerthError } from '../../core/errors.js'
import { attribute, htmlToPlainText } from './html-text.js'
import { trimBase } from './json-shape.js'
import { safeFetch } from './safe-fetch.js'
import type { SearchHit } from './web-provider.js'

export interface DuckDuckGoOptions {
  /** Default https://html.duckduckgo.com (BERTH_DUCKDUCKGO_BASE_URL). */
  baseUrl?: string | undefined
  timeoutMs: number
}

/**
 * Search with DuckDuckGo's HTML endpoint, which needs no key: the form post
 * `POST /html/` `q=…` answers a page of results, each a `div.result` holding
 * an `a.result__a` (title; its href a `//duckduckgo.com/l/?uddg=<url>`
 * redirect) and a `.result__snippet`. Ads (`result--ad`) are skipped. The
 * endpoint is the operator's (or DuckDuckGo's), not the model's, so the
 * private-address guard does not apply to it.
 *
 * @example
 *   await searchDuckDuckGo('otter facts', 5, signal, { timeoutMs: 20_000 })
 *   // [{ title: 'Otter - Wikipedia', url: 'https://en.wikipedia.org/wiki/Otter', content: 'Otters are…' }]
 */
export async function searchDuckDuckGo(
  query: string,
  maxResults: number,
  signal: AbortSignal,
  options: DuckDuckGoOptions,
): Promise<SearchHit[]> {
  const page = await safeFetch(`${trimBase(options.baseUrl ?? 'https://html.duckduckgo.com')}/html/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q: query, b: '' }).toString(),
    signal,
    timeoutMs: options.timeoutMs,
    maxBytes: 4 * 1024 * 1024,
    allowPrivate: true,
  })
  const html = page.body.toString('utf8')
  // DuckDuckGo answers automated traffic it dislikes with 202 and a challenge page instead of results.
  if (page.status === 202 || /anomaly-modal|challenge-form/.test(html)) {
    throw new BerthError(
      'WEB_REQUEST_FAILED',
      'DuckDuckGo refused the search with a bot check (too many searches from this server). Wait a minute and ' +
        'search again, or set TAVILY_API_KEY, JINA_API_KEY or SERPER_API_KEY for a keyed search.',
      { details: { httpStatus: page.status } },
    )
  }
  if (page.status < 200 || page.status >= 300) {
    throw new BerthError('WEB_REQUEST_FAILED', `DuckDuckGo search failed with HTTP ${page.status}.`, {
      details: { httpStatus: page.status },
    })
  }
  return parseDuckDuckGoResults(html).slice(0, maxResults)
}

/** The organic results of a DuckDuckGo HTML result page, in order. */
export function parseDuckDuckGoResults(html: string): SearchHit[] {
  const hits: SearchHit[] = []
  // One block per result container: a <div> whose class list has the word `result` (not result__body).
  const starts = [...html.matchAll(/<div\b[^>]*\bclass\s*=\s*"([^"]*)"[^>]*>/gi)].filter((m) =>
    /(?:^|\s)result(?:\s|$|--)/.test(m[1] as string),
  )
  for (const [i, start] of starts.entries()) {
    const classes = start[1] as string
    if (/result--ad\b/.test(classes)) continue
    const block = html.slice(start.index, starts[i + 1]?.index ?? html.length)
    const anchor = /<a\b([^>]*\bclass\s*=\s*"[^"]*\bresult__a\b[^"]*"[^>]*)>([\s\S]*?)<\/a>/i.exec(block)
    if (anchor === null) continue
    const url = unwrapRedirect(attribute(anchor[1] as string, 'href') ?? '')
    if (url === null) continue
    const snippet = /<(a|div|td|span)\b[^>]*\bclass\s*=\s*"[^"]*\bresult__snippet\b[^"]*"[^>]*>([\s\S]*?)<\/\1>/i.exec(
      block,
    )
    hits.push({
      title: htmlToPlainText(anchor[2] as string),
      url,
      content: snippet ? htmlToPlainText(snippet[2] as string) : '',
    })
  }
  return hits
}

/** `//duckduckgo.com/l/?uddg=https%3A%2F%2Fa.example&rut=…` → `https://a.example`; ad links (`/y.js`) → null. */
export function unwrapRedirect(href: string): string | null {
  let url: URL
  try {
    url = new URL(href, 'https://duckduckgo.com')
  } catch {
    return null
  }
  const isDuckDuckGo = url.hostname === 'duckduckgo.com' || url.hostname.endsWith('.duckduckgo.com')
  if (isDuckDuckGo && url.pathname === '/l/') return url.searchParams.get('uddg')
  if (isDuckDuckGo && url.pathname === '/y.js') return null
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null
}

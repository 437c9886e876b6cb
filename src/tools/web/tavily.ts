import { BerthError } from '../../core/errors.js'
import { fetchJson } from './http.js'
import { asArray, asRecord, asString, trimBase } from './json-shape.js'
import type { WebProvider } from './web-provider.js'

/**
 * Tavily: `POST /search` `{query, max_results}` → `{results: [{title, url, content}]}`;
 * `POST /extract` `{urls}` → `{results: [{url, raw_content, images?}], failed_results: [{url, error}]}`.
 * The key goes in `Authorization: Bearer`.
 *
 * @example
 *   const tavily = createTavilyProvider(key) // base https://api.tavily.com
 */
export function createTavilyProvider(apiKey: string, baseUrl = 'https://api.tavily.com'): WebProvider {
  const base = trimBase(baseUrl)
  const post = (path: string, body: unknown, what: string, signal: AbortSignal) =>
    fetchJson(
      `${base}${path}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify(body),
      },
      { what, keyVariable: 'TAVILY_API_KEY', signal },
    )
  return {
    name: 'Tavily',
    async search(query, maxResults, signal) {
      const body = asRecord(await post('/search', { query, max_results: maxResults }, 'Tavily search', signal))
      return asArray(body.results).map((item) => {
        const hit = asRecord(item)
        return { title: asString(hit.title), url: asString(hit.url), content: asString(hit.content) }
      })
    },
    async visit(url, signal) {
      const body = asRecord(await post('/extract', { urls: [url] }, 'Tavily extract', signal))
      const first = asRecord(asArray(body.results)[0])
      const content = asString(first.raw_content)
      if (content === '') {
        const failure = asRecord(asArray(body.failed_results)[0])
        const reason = asString(failure.error) || 'no content was returned'
        throw new BerthError('WEB_REQUEST_FAILED', `Could not read ${url} with Tavily: ${reason}.`)
      }
      const images = asArray(first.images).filter((i): i is string => typeof i === 'string')
      const gallery =
        images.length > 0 ? `\n\n### Images:\n${images.map((src, i) => `![Image ${i + 1}](${src})`).join('\n')}` : ''
      return { title: asString(first.title), content: content + gallery }
    },
  }
}

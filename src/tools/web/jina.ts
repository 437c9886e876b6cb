import { BerthError } from '../../core/errors.js'
import { fetchJson } from './http.js'
import { asArray, asRecord, asString, trimBase } from './json-shape.js'
import type { WebProvider } from './web-provider.js'

/**
 * Jina: search `GET s.jina.ai/?q=…&num=…` and read `GET r.jina.ai/<url>`,
 * both with `Accept: application/json` and `Authorization: Bearer`; answers
 * are `{code, status, data}` with `data` a list of `{title, url, description}`
 * (search) or one `{title, url, content}` (reader).
 *
 * @example
 *   const jina = createJinaProvider(key)
 */
export function createJinaProvider(
  apiKey: string,
  searchBase = 'https://s.jina.ai',
  readerBase = 'https://r.jina.ai',
): WebProvider {
  const headers = { accept: 'application/json', authorization: `Bearer ${apiKey}` }
  const options = (what: string, signal: AbortSignal) => ({ what, keyVariable: 'JINA_API_KEY', signal })
  return {
    name: 'Jina',
    async search(query, maxResults, signal) {
      const url = `${trimBase(searchBase)}/?${new URLSearchParams({ q: query, num: String(maxResults) })}`
      const body = asRecord(
        await fetchJson(
          url,
          { headers: { ...headers, 'x-respond-with': 'no-content' } },
          options('Jina search', signal),
        ),
      )
      return asArray(body.data)
        .slice(0, maxResults)
        .map((item) => {
          const hit = asRecord(item)
          return {
            title: asString(hit.title),
            url: asString(hit.url),
            content: asString(hit.description) || asString(hit.content),
          }
        })
    },
    async visit(url, signal) {
      const body = asRecord(
        await fetchJson(
          `${trimBase(readerBase)}/${url}`,
          { headers: { ...headers, 'x-return-format': 'markdown' } },
          options('Jina reader', signal),
        ),
      )
      const data = asRecord(body.data)
      const content = asString(data.content)
      if (content === '') {
        throw new BerthError('WEB_REQUEST_FAILED', `Could not read ${url} with Jina: no content was returned.`)
      }
      return { title: asString(data.title), content }
    },
  }
}

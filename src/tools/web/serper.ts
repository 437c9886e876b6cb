import { BerthError } from '../../core/errors.js'
import { fetchJson } from './http.js'
import { asArray, asRecord, asString, trimBase } from './json-shape.js'
import type { WebProvider } from './web-provider.js'

/**
 * Serper: `POST google.serper.dev/search` `{q, num}` → `{organic: [{title, link, snippet}]}`;
 * `POST scrape.serper.dev` `{url, includeMarkdown}` → `{text, markdown?, metadata: {title}}`.
 * The key goes in `X-API-KEY`.
 *
 * @example
 *   const serper = createSerperProvider(key)
 */
export function createSerperProvider(
  apiKey: string,
  searchBase = 'https://google.serper.dev',
  scrapeBase = 'https://scrape.serper.dev',
): WebProvider {
  const post = (url: string, body: unknown, what: string, signal: AbortSignal) =>
    fetchJson(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: JSON.stringify(body),
      },
      { what, keyVariable: 'SERPER_API_KEY', signal },
    )
  return {
    name: 'Serper',
    async search(query, maxResults, signal) {
      const body = asRecord(
        await post(`${trimBase(searchBase)}/search`, { q: query, num: maxResults }, 'Serper search', signal),
      )
      return asArray(body.organic)
        .slice(0, maxResults)
        .map((item) => {
          const hit = asRecord(item)
          return { title: asString(hit.title), url: asString(hit.link), content: asString(hit.snippet) }
        })
    },
    async visit(url, signal) {
      const body = asRecord(await post(trimBase(scrapeBase), { url, includeMarkdown: true }, 'Serper scrape', signal))
      const content = asString(body.markdown) || asString(body.text)
      if (content === '') {
        throw new BerthError('WEB_REQUEST_FAILED', `Could not read ${url} with Serper: no content was returned.`)
      }
      return { title: asString(asRecord(body.metadata).title), content }
    },
  }
}

export interface ImageHit {
  title: string
  image_url: string
  width: number
  height: number
}

/**
 * Serper's image search: `POST google.serper.dev/images` `{q, num}` →
 * `{images: [{title, imageUrl, imageWidth, imageHeight, …}]}`, returned in
 * the reference's shape `{title, image_url, width, height}`.
 *
 * @example
 *   await searchSerperImages(key, 'sea otter', 5, signal) // [{ title: 'Sea otter', image_url: 'https://…jpg', width: 800, height: 600 }]
 */
export async function searchSerperImages(
  apiKey: string,
  query: string,
  maxResults: number,
  signal: AbortSignal,
  searchBase = 'https://google.serper.dev',
): Promise<ImageHit[]> {
  const body = asRecord(
    await fetchJson(
      `${trimBase(searchBase)}/images`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: JSON.stringify({ q: query, num: maxResults }),
      },
      { what: 'Serper image search', keyVariable: 'SERPER_API_KEY', signal },
    ),
  )
  return asArray(body.images)
    .slice(0, maxResults)
    .map((item) => {
      const hit = asRecord(item)
      return {
        title: asString(hit.title),
        image_url: asString(hit.imageUrl),
        width: typeof hit.imageWidth === 'number' ? hit.imageWidth : 0,
        height: typeof hit.imageHeight === 'number' ? hit.imageHeight : 0,
      }
    })
    .filter((hit) => hit.image_url !== '')
}

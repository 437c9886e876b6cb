import { BerthError, isBerthError } from '../../core/errors.js'
import { searchDuckDuckGo } from './duckduckgo.js'
import { createJinaProvider } from './jina.js'
import { readPage } from './page-reader.js'
import { createSerperProvider } from './serper.js'
import { createTavilyProvider } from './tavily.js'

export interface SearchHit {
  title: string
  url: string
  content: string
}

export interface WebPage {
  title: string
  content: string
  /** Set when the address held a document rather than a page (a PDF, an image): its bytes, for the tool to save. */
  download?: WebDownload
}

export interface WebDownload {
  /** The address finally answered, after redirects. */
  url: string
  contentType: string
  bytes: Buffer
}

/**
 * A web search and page reading service. Implementations translate one
 * provider's wire format (Tavily, Jina, Serper, DuckDuckGo's HTML page, a
 * plain fetch) into these shapes.
 */
export interface WebProvider {
  readonly name: string
  search(query: string, maxResults: number, signal: AbortSignal): Promise<SearchHit[]>
  visit(url: string, signal: AbortSignal): Promise<WebPage>
}

/** The settings the web tools read (a subset of `BerthConfig`). */
export interface WebConfig {
  tavilyApiKey?: string | undefined
  tavilyBaseUrl?: string | undefined
  jinaApiKey?: string | undefined
  jinaSearchBaseUrl?: string | undefined
  jinaReaderBaseUrl?: string | undefined
  serperApiKey?: string | undefined
  serperBaseUrl?: string | undefined
  serperScrapeBaseUrl?: string | undefined
  /** BERTH_DUCKDUCKGO_BASE_URL: the keyless search endpoint (a local server in tests). */
  duckDuckGoBaseUrl?: string | undefined
  /** BERTH_ARXIV_BASE_URL: where arxiv.org/abs/<id> is read as <base>/html/<id>. */
  arxivBaseUrl?: string | undefined
  /** BERTH_YOUTUBE_BASE_URL: where www.youtube.com requests for transcripts go. */
  youtubeBaseUrl?: string | undefined
  /** BERTH_WEB_ALLOW_PRIVATE: let the model's fetches reach loopback and private addresses. */
  webAllowPrivate?: boolean | undefined
  /** BERTH_WEB_TIMEOUT, seconds, for one keyless fetch. */
  webTimeout?: number | undefined
  /** BERTH_WEB_MAX_BYTES: the most a keyless fetch downloads. */
  webMaxBytes?: number | null | undefined
}

export const DEFAULT_WEB_TIMEOUT_SECONDS = 20
export const DEFAULT_WEB_MAX_BYTES = 5 * 1024 * 1024

/** Timeout, size cap and address policy of the fetches berth makes itself. */
export function keylessFetchOptions(config: WebConfig): { timeoutMs: number; maxBytes: number; allowPrivate: boolean } {
  return {
    timeoutMs: (config.webTimeout ?? DEFAULT_WEB_TIMEOUT_SECONDS) * 1000,
    maxBytes: config.webMaxBytes ?? DEFAULT_WEB_MAX_BYTES,
    allowPrivate: config.webAllowPrivate ?? false,
  }
}

/**
 * The first configured keyed provider, in the order Tavily, Jina, Serper;
 * null when no key is set.
 *
 * @example
 *   const provider = createKeyedProvider(config) // null without TAVILY_API_KEY, JINA_API_KEY or SERPER_API_KEY
 */
export function createKeyedProvider(config: WebConfig): WebProvider | null {
  if (config.tavilyApiKey) return createTavilyProvider(config.tavilyApiKey, config.tavilyBaseUrl)
  if (config.jinaApiKey) {
    return createJinaProvider(config.jinaApiKey, config.jinaSearchBaseUrl, config.jinaReaderBaseUrl)
  }
  if (config.serperApiKey) {
    return createSerperProvider(config.serperApiKey, config.serperBaseUrl, config.serperScrapeBaseUrl)
  }
  return null
}

/**
 * The provider that needs no key: DuckDuckGo's HTML endpoint for search, a
 * plain fetch turned into markdown for pages.
 *
 * @example
 *   const keyless = createKeylessProvider({ duckDuckGoBaseUrl: 'http://127.0.0.1:9000', webAllowPrivate: true })
 */
export function createKeylessProvider(config: WebConfig): WebProvider {
  const fetchOptions = keylessFetchOptions(config)
  return {
    name: 'DuckDuckGo and plain fetch',
    search: (query, maxResults, signal) =>
      searchDuckDuckGo(query, maxResults, signal, {
        baseUrl: config.duckDuckGoBaseUrl,
        timeoutMs: fetchOptions.timeoutMs,
      }),
    visit: (url, signal) => readPage(url, signal, fetchOptions),
  }
}

/** What the web tools get: the answer plus, after a fallback, why the keyed provider was passed over. */
export interface WebService {
  search(query: string, maxResults: number, signal: AbortSignal): Promise<{ hits: SearchHit[]; notice?: string }>
  visit(url: string, signal: AbortSignal): Promise<WebPage & { notice?: string }>
}

/**
 * The web tools' providers in order: the configured keyed one first, then
 * the keyless one. When the keyed provider fails (a refused or exhausted key,
 * a page it cannot read, a timeout), the keyless one is asked as well, and
 * the answer carries a `notice` naming the failure, which the tools log as a
 * warning so the operator learns of a bad key; the model gets the results
 * alone (web_search's output stays the JSON list the reference frontend
 * parses). A cancelled run is not retried. When both fail, the error names both.
 *
 * @example
 *   const web = createWebService(config) // always available: DuckDuckGo and plain fetch without keys
 *   const { hits, notice } = await web.search('otters', 5, signal)
 */
export function createWebService(config: WebConfig): WebService {
  const keyed = createKeyedProvider(config)
  const providers = keyed === null ? [createKeylessProvider(config)] : [keyed, createKeylessProvider(config)]
  return {
    async search(query, maxResults, signal) {
      const { value, notice } = await firstAnswer(providers, signal, (p) => p.search(query, maxResults, signal))
      return notice === undefined ? { hits: value } : { hits: value, notice }
    },
    async visit(url, signal) {
      const { value, notice } = await firstAnswer(providers, signal, (p) => p.visit(url, signal))
      return notice === undefined ? value : { ...value, notice }
    },
  }
}

async function firstAnswer<T>(
  providers: WebProvider[],
  signal: AbortSignal,
  ask: (provider: WebProvider) => Promise<T>,
): Promise<{ value: T; notice?: string }> {
  const failures: string[] = []
  for (const [index, provider] of providers.entries()) {
    try {
      const value = await ask(provider)
      if (failures.length === 0) return { value }
      return { value, notice: `${failures.join(' ')} Answered by the keyless fallback instead.` }
    } catch (error) {
      if (signal.aborted || isBerthError(error, 'TOOL_ABORTED')) throw error
      const message = error instanceof Error ? error.message : String(error)
      if (index < providers.length - 1) {
        failures.push(message)
        continue
      }
      if (failures.length === 0) throw error
      throw new BerthError('WEB_REQUEST_FAILED', `${failures.join(' ')} The keyless fallback failed too: ${message}`, {
        cause: error,
      })
    }
  }
  throw new Error('no web provider') // unreachable: providers is never empty
}

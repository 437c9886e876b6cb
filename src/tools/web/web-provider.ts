import { createJinaProvider } from './jina.js'
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
}

/**
 * A web search and page reading service. Implementations translate one
 * provider's wire format (Tavily, Jina, Serper) into these shapes.
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
}

/**
 * The first configured provider, in the order Tavily, Jina, Serper; null
 * when no key is set (the web tools are then not offered to the model).
 *
 * @example
 *   const provider = createWebProvider(config) // null without TAVILY_API_KEY, JINA_API_KEY or SERPER_API_KEY
 */
export function createWebProvider(config: WebConfig): WebProvider | null {
  if (config.tavilyApiKey) return createTavilyProvider(config.tavilyApiKey, config.tavilyBaseUrl)
  if (config.jinaApiKey) {
    return createJinaProvider(config.jinaApiKey, config.jinaSearchBaseUrl, config.jinaReaderBaseUrl)
  }
  if (config.serperApiKey) {
    return createSerperProvider(config.serperApiKey, config.serperBaseUrl, config.serperScrapeBaseUrl)
  }
  return null
}

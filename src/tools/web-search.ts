import { z } from 'zod'
import { intParam } from './params.js'
import { defineTool, type Tool } from './tool.js'
import type { WebService } from './web/web-provider.js'

const MAX_RESULTS = 20

const parameters = z.object({
  query: z.string().min(1).describe('The search query to perform.'),
  max_results: intParam(`How many results to return (1 to ${MAX_RESULTS}); default 5.`).optional(),
})

/**
 * The `web_search` tool: results as a JSON list of `{title, url, content}`,
 * as the reference printed them (its frontend parses that JSON). Always
 * offered: a keyed provider when one is configured, DuckDuckGo otherwise
 * and when the keyed one fails.
 *
 * @example
 *   const search = createWebSearchTool(createWebService(config))
 *   await runTool(search, { query: 'berth agent server' }, ctx)
 */
export function createWebSearchTool(web: WebService): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'web_search',
    description: 'Performs a web search using a search engine API and returns the search results.',
    parameters,
    async execute(input, context) {
      const max = Math.min(Math.max(input.max_results ?? 5, 1), MAX_RESULTS)
      const { hits, notice } = await web.search(input.query, max, context.signal)
      if (notice !== undefined) context.logger.warn({ tool: 'web_search' }, notice)
      if (hits.length === 0) return { output: `No search results found for query: ${input.query}` }
      return { output: JSON.stringify(hits.slice(0, max), null, 4) }
    },
  })
}

import { z } from 'zod'
import { defineTool, type Tool } from './tool.js'
import { searchSerperImages } from './web/serper.js'

/** As many as the reference returns. */
const RESULTS = 5

const parameters = z.object({
  query: z.string().min(1).describe('The search query to perform.'),
})

/**
 * The `image_search` tool: up to five image URLs with their size, as a JSON list of
 * `{title, image_url, width, height}`. Offered only with SERPER_API_KEY, as
 * the reference offers it only with its Serper key.
 *
 * @example
 *   await runTool(createImageSearchTool(key), { query: 'sea otter' }, ctx)
 */
export function createImageSearchTool(
  apiKey: string,
  options: { baseUrl?: string | undefined } = {},
): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'image_search',
    description: 'Performs an image search using a search engine API and returns a list of image URLs.',
    parameters,
    async execute(input, context) {
      const hits = await searchSerperImages(apiKey, input.query, RESULTS, context.signal, options.baseUrl)
      if (hits.length === 0) return { output: `No images found for query: ${input.query}` }
      return { output: JSON.stringify(hits, null, 4) }
    },
  })
}

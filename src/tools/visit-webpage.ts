import { z } from 'zod'
import { defineTool, type Tool } from './tool.js'
import type { WebProvider } from './web/web-provider.js'

const parameters = z.object({
  url: z.string().min(1).describe('The url of the webpage to visit.'),
})

/**
 * The `visit_webpage` tool: a page's content as text (markdown where the
 * provider gives it). Large pages are what the file-based context manager
 * later moves to `agent_memory/`.
 *
 * @example
 *   await runTool(createVisitWebpageTool(provider), { url: 'https://example.com' }, ctx)
 */
export function createVisitWebpageTool(provider: WebProvider): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'visit_webpage',
    description:
      'You should call this tool when you need to visit a webpage and extract its content. Returns webpage content as text.',
    parameters,
    async execute(input, context) {
      const url = normalizeUrl(input.url)
      if (url === null) {
        return { output: `Not a web address: ${input.url}. Give a full http:// or https:// URL.`, isError: true }
      }
      const page = await provider.visit(url, context.signal)
      return { output: page.title ? `${page.title}\n\n${page.content}` : page.content }
    },
  })
}

/** Accept `example.com/x` as `https://example.com/x`; refuse other schemes (file:, javascript:). */
function normalizeUrl(raw: string): string | null {
  const text = raw.trim()
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(text) ? text : `https://${text}`
  try {
    const url = new URL(withScheme)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : null
  } catch {
    return null
  }
}

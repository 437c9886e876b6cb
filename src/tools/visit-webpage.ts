import { z } from 'zod'
import { defineTool, type Tool } from './tool.js'
import { trimBase } from './web/json-shape.js'
import type { WebService } from './web/web-provider.js'

const parameters = z.object({
  url: z.string().min(1).describe('The url of the webpage to visit.'),
})

/**
 * The `visit_webpage` tool: a page's content as text (markdown where the
 * provider gives it). Always offered: a keyed reader when configured, a plain
 * fetch otherwise and when the keyed one fails. Large pages are what the
 * file-based context manager later moves to `agent_memory/`.
 *
 * @example
 *   await runTool(createVisitWebpageTool(web), { url: 'https://example.com' }, ctx)
 */
export function createVisitWebpageTool(
  web: WebService,
  options: { arxivBaseUrl?: string | undefined } = {},
): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'visit_webpage',
    description:
      'You should call this tool when you need to visit a webpage and extract its content. Returns webpage content as text.',
    parameters,
    async execute(input, context) {
      const normalized = normalizeUrl(input.url)
      if (normalized === null) {
        return { output: `Not a web address: ${input.url}. Give a full http:// or https:// URL.`, isError: true }
      }
      const url = arxivHtmlUrl(normalized, options.arxivBaseUrl) ?? normalized
      const page = await web.visit(url, context.signal)
      if (page.notice !== undefined) context.logger.warn({ tool: 'visit_webpage', url }, page.notice)
      return { output: page.title ? `${page.title}\n\n${page.content}` : page.content }
    },
  })
}

/**
 * An arxiv abstract page is read as the paper's HTML rendering instead, as
 * the reference does: `arxiv.org/abs/2401.01234v2` → `<base>/html/2401.01234v2`
 * (base https://arxiv.org, BERTH_ARXIV_BASE_URL). Old-style ids keep their
 * archive (`abs/hep-th/9901001` → `html/hep-th/9901001`). Null for other URLs.
 *
 * @example
 *   arxivHtmlUrl('https://arxiv.org/abs/1706.03762') // 'https://arxiv.org/html/1706.03762'
 */
export function arxivHtmlUrl(url: string, base = 'https://arxiv.org'): string | null {
  const parsed = new URL(url)
  if (!/^(?:www\.|export\.)?arxiv\.org$/.test(parsed.hostname)) return null
  const match = /^\/abs\/(.+?)\/*$/.exec(parsed.pathname)
  return match ? `${trimBase(base)}/html/${match[1]}` : null
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

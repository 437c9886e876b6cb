import { z } from 'zod'
import { isBerthError } from '../core/errors.js'
import { formatBytes } from '../core/format-bytes.js'
import { sanitizeFileName } from '../workspace/file-names.js'
import { readDocument } from './documents/read-document.js'
import { defineTool, type Tool, type ToolContext } from './tool.js'
import { trimBase } from './web/json-shape.js'
import type { WebDownload, WebService } from './web/web-provider.js'

const parameters = z.object({
  url: z.string().min(1).describe('The url of the webpage to visit.'),
})

/**
 * The `visit_webpage` tool: a page's content as text (markdown where the
 * provider gives it); a document at the address (PDF, image, spreadsheet) is
 * saved under `downloads/` and its text returned. Always offered: a keyed reader when configured, a plain
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
      if (page.download !== undefined) return { output: await saveAndRead(page.download, context) }
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

/** Extensions for documents served without one in their address. */
const EXTENSIONS: Record<string, string> = {
  'application/pdf': '.pdf',
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/gif': '.gif',
  'image/webp': '.webp',
  'application/zip': '.zip',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': '.docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': '.xlsx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': '.pptx',
}

/**
 * A document found at a web address (a PDF paper, an image, a spreadsheet)
 * is saved under `downloads/` through the workspace's one door (containment,
 * quota) and read as get_text_from_local_file reads it: PDF text page by
 * page, an image described, and so on. Saved even when it cannot be read,
 * so bash can work on it.
 */
async function saveAndRead(download: WebDownload, context: ToolContext): Promise<string> {
  let name = sanitizeFileName(safeDecode(new URL(download.url).pathname.split('/').at(-1) ?? ''))
  if (name === 'file') name = 'download'
  const extension = EXTENSIONS[download.contentType]
  if (extension !== undefined && !name.toLowerCase().endsWith(extension)) name += extension
  const relative = `downloads/${name}`
  await context.workspaces.writeFile(context.sessionId, relative, download.bytes)
  const saved = `Saved ${download.url} (${formatBytes(download.bytes.byteLength)}) to ${relative}.`
  try {
    return `${saved}\n\n${await readDocument(context, relative)}`
  } catch (error) {
    if (!isBerthError(error)) throw error
    return `${saved} Its contents could not be read as text: ${error.message}`
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
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

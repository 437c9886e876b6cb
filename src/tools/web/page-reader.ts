import { BerthError } from '../../core/errors.js'
import { formatBytes } from '../../core/format-bytes.js'
import { htmlToMarkdown } from './html-markdown.js'
import { safeFetch } from './safe-fetch.js'
import type { WebPage } from './web-provider.js'

export interface PageReaderOptions {
  /** Reach loopback and private addresses (BERTH_WEB_ALLOW_PRIVATE). */
  allowPrivate: boolean
  timeoutMs: number
  /** Bytes of a page downloaded at most (BERTH_WEB_MAX_BYTES); the rest is cut with a note. */
  maxBytes: number
}

/**
 * Read a page with a plain fetch, as the keyless `visit_webpage` does: HTML
 * becomes markdown with its title; text, JSON and XML come back as they are;
 * other types (PDF, images, archives) come back as a `download` for the
 * tool to save and read, or, past the size cap, as a note saying how to get
 * the file another way.
 *
 * @example
 *   const page = await readPage('https://example.com', signal, { allowPrivate: false, timeoutMs: 20_000, maxBytes: 5e6 })
 */
export async function readPage(url: string, signal: AbortSignal, options: PageReaderOptions): Promise<WebPage> {
  const answer = await safeFetch(url, { signal, ...options })
  if (answer.status < 200 || answer.status >= 300) {
    throw new BerthError(
      'WEB_REQUEST_FAILED',
      `Fetching ${answer.url} failed with HTTP ${answer.status}. Check that the address is right, or search for another source.`,
      { details: { httpStatus: answer.status } },
    )
  }
  const type = (answer.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  const cut = answer.truncated
    ? `\n\n[The page was cut at ${formatBytes(options.maxBytes)}; the rest was not downloaded.]`
    : ''
  const sniffed = answer.body.subarray(0, 512).toString('latin1').trimStart().toLowerCase()
  const looksHtml = sniffed.startsWith('<!doctype html') || sniffed.startsWith('<html')
  if (
    type === 'text/html' ||
    type === 'application/xhtml+xml' ||
    ((type === '' || type === 'text/plain') && looksHtml)
  ) {
    const html = decodeText(answer.body, answer.headers['content-type'], true)
    const page = htmlToMarkdown(html, answer.url)
    if (page.content === '') {
      throw new BerthError(
        'WEB_REQUEST_FAILED',
        `${answer.url} has no readable text: it may be drawn by script. Try a browser tool if one is available, or another source.`,
      )
    }
    return { title: page.title, content: page.content + cut }
  }
  if (isTextType(type)) {
    return { title: '', content: decodeText(answer.body, answer.headers['content-type'], false) + cut }
  }
  const what = type === 'application/pdf' ? 'a PDF document' : `a file of type ${type || 'unknown'}`
  if (answer.truncated) {
    return {
      title: '',
      content:
        `${answer.url} is ${what} of more than ${formatBytes(options.maxBytes)}, too large to read here. ` +
        'Download it into the workspace (for example with bash: curl -L -o <name> <url>) and open it with a tool that reads files.',
    }
  }
  return {
    title: '',
    content: `${answer.url} is ${what} (${formatBytes(answer.body.byteLength)}), not a web page.`,
    download: { url: answer.url, contentType: type, bytes: answer.body },
  }
}

function isTextType(type: string): boolean {
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/x-ndjson'
  )
}

/** Bytes to text by the header's charset, else (HTML) a `<meta charset>` near the top, else UTF-8. */
function decodeText(body: Buffer, contentType: string | undefined, html: boolean): string {
  let charset = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1]
  if (charset === undefined && html) {
    charset = /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(body.subarray(0, 4096).toString('latin1'))?.[1]
  }
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(body)
  } catch {
    return new TextDecoder('utf-8').decode(body)
  }
}

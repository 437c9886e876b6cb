import TurndownService from 'turndown'
import { htmlTitle } from './html-text.js'

/** The part of the DOM (domino, inside turndown) these rules touch; berth compiles without the DOM lib. */
interface DomNode {
  nodeName: string
  parentNode: DomNode | null
  childNodes: ArrayLike<DomNode>
  children: ArrayLike<DomNode>
  nextSibling: DomNode | null
  getAttribute(name: string): string | null
  getElementsByTagName(name: string): ArrayLike<DomNode>
}
const dom = (node: unknown) => node as DomNode

/** Elements that carry no readable text for the model. */
const DROPPED = [
  'head',
  'title',
  'script',
  'style',
  'noscript',
  'template',
  'iframe',
  'svg',
  'canvas',
  'object',
  'embed',
]

/**
 * A web page as markdown for the model: its `<title>`, headings, lists, code,
 * tables as pipe tables (turndown alone flattens them), and links and images
 * made absolute against the page's address so they can be visited next.
 *
 * @example
 *   htmlToMarkdown('<title>T</title><a href="/x">X</a>', 'https://a.example/b')
 *   // { title: 'T', content: '[X](https://a.example/x)' }
 */
export function htmlToMarkdown(html: string, pageUrl: string): { title: string; content: string } {
  const service = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-' })
  service.remove(DROPPED as unknown as TurndownService.Filter)
  service.addRule('absoluteLink', {
    filter: (node) => dom(node).nodeName === 'A' && dom(node).getAttribute('href') !== null,
    replacement: (content, node) => {
      const href = absolute(dom(node).getAttribute('href') ?? '', pageUrl)
      const text = content.trim()
      if (href === null || href.startsWith('javascript:')) return text
      return text === '' ? '' : `[${text}](${href})`
    },
  })
  service.addRule('absoluteImage', {
    filter: 'img',
    replacement: (_content, node) => {
      const src = absolute(dom(node).getAttribute('src') ?? '', pageUrl)
      if (src === null || src.startsWith('data:')) return ''
      const alt = (dom(node).getAttribute('alt') ?? '').replace(/[[\]\n]/g, ' ').trim()
      return `![${alt}](${src})`
    },
  })
  // turndown pads list markers to four columns (`-   item`); one space reads the same and costs fewer tokens.
  service.addRule('listItem', {
    filter: 'li',
    replacement: (content, node) => {
      const item = dom(node)
      const parent = item.parentNode
      let marker = '-'
      if (parent?.nodeName === 'OL') {
        const start = Number(parent.getAttribute('start') ?? '1')
        marker = `${(Number.isFinite(start) ? start : 1) + Array.prototype.indexOf.call(parent.children, item)}.`
      }
      const text = content
        .replace(/^\n+/, '')
        .replace(/\n+$/, '\n')
        .replace(/\n/gm, `\n${' '.repeat(marker.length + 1)}`)
      return `${marker} ${text}${item.nextSibling !== null && !text.endsWith('\n') ? '\n' : ''}`
    },
  })
  service.addRule('tableSection', { filter: ['thead', 'tbody', 'tfoot'], replacement: (content) => content })
  service.addRule('tableCell', {
    filter: ['th', 'td'],
    replacement: (content) =>
      ` ${content
        .replace(/\s*\n\s*/g, ' ')
        .replace(/\|/g, '\\|')
        .trim()} |`,
  })
  service.addRule('tableRow', {
    filter: 'tr',
    replacement: (content, node) => {
      const row = `\n|${content}`
      if (!isFirstRow(dom(node))) return row
      const cells = Array.from(dom(node).childNodes).filter((c) => c.nodeName === 'TH' || c.nodeName === 'TD')
      return `${row}\n|${' --- |'.repeat(Math.max(cells.length, 1))}`
    },
  })
  service.addRule('table', { filter: 'table', replacement: (content) => `\n\n${content.trim()}\n\n` })
  service.addRule('caption', { filter: 'caption', replacement: (content) => `${content.trim()}\n\n` })
  // Pages are mostly script and style by size; dropping them before the DOM is built saves most of the parse.
  const lean = html.replace(/<(script|style|svg|noscript|template)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '')
  const content = service
    .turndown(lean)
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
  return { title: htmlTitle(html), content }
}

function isFirstRow(row: DomNode): boolean {
  let table = row.parentNode
  while (table !== null && table.nodeName !== 'TABLE') table = table.parentNode
  return table?.getElementsByTagName('tr')[0] === row
}

function absolute(href: string, base: string): string | null {
  const trimmed = href.trim()
  if (trimmed === '') return null
  try {
    return new URL(trimmed, base).toString()
  } catch {
    return trimmed
  }
}

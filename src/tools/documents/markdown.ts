import TurndownService from 'turndown'

/** The few DOM members the table rule reads (berth compiles without the DOM library). */
interface DomNode {
  nodeName: string
  childNodes: ArrayLike<DomNode>
  innerHTML?: string
}

/**
 * HTML to markdown with tables kept as markdown tables (turndown alone
 * flattens them into loose lines); scripts and styles dropped.
 *
 * @example
 *   htmlToMarkdown('<table><tr><td>a</td><td>b</td></tr></table>') // '| a | b |\n| --- | --- |'
 */
export function htmlToMarkdown(html: string): string {
  return service().turndown(html).trim()
}

/**
 * Rows of cells as a markdown table, the first row as its header; ragged
 * rows are padded, pipes and line breaks inside cells escaped.
 *
 * @example
 *   markdownTable([['Name', 'Age'], ['Ada', '36']]) // '| Name | Age |\n| --- | --- |\n| Ada | 36 |'
 */
export function markdownTable(rows: readonly (readonly string[])[]): string {
  const width = Math.max(1, ...rows.map((row) => row.length))
  const line = (row: readonly string[]) =>
    `| ${Array.from({ length: width }, (_, i) => escapeCell(row[i] ?? '')).join(' | ')} |`
  const [header = [], ...body] = rows
  return [line(header), `| ${Array(width).fill('---').join(' | ')} |`, ...body.map(line)].join('\n')
}

function escapeCell(text: string): string {
  return text
    .replace(/\r?\n|\r/g, ' ')
    .replace(/\|/g, '\\|')
    .trim()
}

let cached: TurndownService | undefined

function service(): TurndownService {
  if (cached !== undefined) return cached
  const turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-' })
  turndown.remove(['script', 'style', 'noscript'])
  turndown.addRule('table', {
    filter: 'table',
    replacement: (_content, node) => {
      const rows = tableRows(node as unknown as DomNode).map((cells) =>
        cells.map((cell) => turndown.turndown(cell.innerHTML ?? '')),
      )
      return rows.length === 0 ? '' : `\n\n${markdownTable(rows)}\n\n`
    },
  })
  cached = turndown
  return turndown
}

/** The table's own rows (not those of a nested table), each as its th/td cells. */
function tableRows(table: DomNode): DomNode[][] {
  const rows: DomNode[][] = []
  const visit = (parent: DomNode) => {
    for (const child of Array.from(parent.childNodes)) {
      const name = child.nodeName.toUpperCase()
      if (name === 'THEAD' || name === 'TBODY' || name === 'TFOOT') visit(child)
      else if (name === 'TR') {
        rows.push(Array.from(child.childNodes).filter((c) => ['TD', 'TH'].includes(c.nodeName.toUpperCase())))
      }
    }
  }
  visit(table)
  return rows
}

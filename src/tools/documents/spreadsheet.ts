import { BerthError } from '../../core/errors.js'
import { markdownTable } from './markdown.js'
import { readTextFile } from './text.js'

/**
 * Every worksheet of an XLSX as a markdown table under `## Sheet: <name>`,
 * its first row as the header; formulas show their cached results, dates as
 * ISO dates.
 *
 * @example
 *   await xlsxToMarkdown('/ws/a.xlsx', 'a.xlsx') // '## Sheet: Sales\n\n| Region | Total |\n| --- | --- |\n| North | 12 |'
 */
export async function xlsxToMarkdown(file: string, shownName: string): Promise<string> {
  // Loaded on first use: exceljs costs ~270 ms of start-up for every berth command otherwise.
  const { default: ExcelJS } = await import('exceljs')
  const workbook = new ExcelJS.Workbook()
  try {
    await workbook.xlsx.readFile(file)
  } catch (error) {
    throw new BerthError(
      'DOCUMENT_UNREADABLE',
      `${shownName} is not a readable Excel workbook: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, details: { file: shownName } },
    )
  }
  const sheets = workbook.worksheets.map((sheet) => {
    const rows: string[][] = []
    sheet.eachRow({ includeEmpty: true }, (row) => {
      const values = row.values as unknown[] // 1-based, sparse
      rows.push(Array.from({ length: Math.max(0, values.length - 1) }, (_, i) => cellText(values[i + 1])))
    })
    return { name: sheet.name, rows }
  })
  return sheetsToMarkdown(sheets, shownName)
}

/**
 * Sheets of cell texts as markdown tables under `## Sheet: <name>`, shared by
 * the XLSX and the old .xls reader (xls.ts).
 *
 * @example
 *   sheetsToMarkdown([{ name: 'S', rows: [['a'], ['1']] }], 'x.xlsx') // '## Sheet: S\n\n| a |\n| --- |\n| 1 |'
 */
export function sheetsToMarkdown(sheets: readonly { name: string; rows: string[][] }[], shownName: string): string {
  if (sheets.length === 0) return `${shownName} has no worksheets.`
  return sheets.map((sheet) => sheetSection(sheet.name, sheet.rows)).join('\n\n')
}

/**
 * A CSV (or TSV) file as one markdown table under `## Sheet: <file name>`.
 * The delimiter is the one of `,` `;` tab that the first line uses most.
 *
 * @example
 *   await csvToMarkdown('/ws/a.csv', 'a.csv') // '## Sheet: a.csv\n\n| x | y |\n| --- | --- |\n| 1 | 2 |'
 */
export async function csvToMarkdown(file: string, shownName: string): Promise<string> {
  const text = await readTextFile(file)
  return sheetSection(shownName, parseCsv(text))
}

function sheetSection(name: string, rows: string[][]): string {
  // Trailing empty rows and columns are formatting, not data.
  while (rows.length > 0 && (rows.at(-1) as string[]).every((cell) => cell === '')) rows.pop()
  const width = Math.max(0, ...rows.map((row) => lastFilled(row) + 1))
  if (rows.length === 0 || width === 0) return `## Sheet: ${name}\n\n(empty)`
  const trimmed = rows.map((row) => Array.from({ length: width }, (_, i) => row[i] ?? ''))
  return `## Sheet: ${name}\n\n${markdownTable(trimmed)}`
}

function lastFilled(row: readonly string[]): number {
  for (let i = row.length - 1; i >= 0; i--) if (row[i] !== '') return i
  return -1
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (value instanceof Date) {
    const iso = value.toISOString()
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.replace('.000Z', 'Z')
  }
  if (typeof value !== 'object') return String(value)
  const v = value as Record<string, unknown>
  if ('result' in v) return cellText(v.result)
  if ('formula' in v || 'sharedFormula' in v) return ''
  if (Array.isArray(v.richText)) return (v.richText as { text?: string }[]).map((run) => run.text ?? '').join('')
  if ('text' in v) return cellText(v.text)
  if ('error' in v) return String(v.error)
  return JSON.stringify(value)
}

/**
 * RFC 4180 CSV: quoted fields may hold delimiters, quotes (doubled) and line breaks.
 *
 * @example
 *   parseCsv('a,"b,c"\n1,"say ""hi"""') // [['a', 'b,c'], ['1', 'say "hi"']]
 */
export function parseCsv(text: string, delimiter = guessDelimiter(text)): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i++
        } else quoted = false
      } else field += c
    } else if (c === '"' && field === '') quoted = true
    else if (c === delimiter) {
      row.push(field)
      field = ''
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += c
  }
  if (field !== '' || row.length > 0) {
    row.push(field)
    rows.push(row)
  }
  return rows
}

function guessDelimiter(text: string): string {
  const firstLine = text.slice(0, text.search(/\r|\n/) === -1 ? undefined : text.search(/\r|\n/))
  let best = ','
  let bestCount = 0
  for (const candidate of [',', ';', '\t']) {
    const count = firstLine.split(candidate).length - 1
    if (count > bestCount) {
      best = candidate
      bestCount = count
    }
  }
  return best
}

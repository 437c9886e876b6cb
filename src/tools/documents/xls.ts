import { execFile } from 'node:child_process'
import { BerthError } from '../../core/errors.js'
import { sheetsToMarkdown } from './spreadsheet.js'

/**
 * Reads an old binary Excel workbook with Python's xlrd (Debian
 * `python3-xlrd`), the one well-kept reader of the format this machine
 * installs from its own packages; no npm package for .xls is both kept and
 * runnable on Node 20. xlrd parses, prints every sheet's cells as JSON, and
 * formatting follows the XLSX path. Dates become ISO dates; numbers that are
 * whole lose their `.0`.
 */
const XLRD_SCRIPT = `
import json, sys, datetime
import xlrd
book = xlrd.open_workbook(sys.argv[1], on_demand=True)
def text(cell):
    if cell.ctype == xlrd.XL_CELL_DATE:
        value = datetime.datetime(*xlrd.xldate_as_tuple(cell.value, book.datemode))
        return value.date().isoformat() if value.time() == datetime.time(0) else value.isoformat()
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        return str(int(cell.value)) if float(cell.value).is_integer() else repr(cell.value)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERR")
    return str(cell.value)
sheets = []
for index in range(book.nsheets):
    sheet = book.sheet_by_index(index)
    sheets.append({"name": sheet.name, "rows": [[text(sheet.cell(r, c)) for c in range(sheet.ncols)] for r in range(sheet.nrows)]})
json.dump(sheets, sys.stdout)
`

const TIMEOUT_MS = 120_000
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024

/**
 * Every sheet of an `.xls` workbook as a markdown table under `## Sheet: <name>`.
 * Without python3 and xlrd the answer says how to convert the file instead.
 *
 * @example
 *   await xlsToMarkdown('/ws/old.xls', 'old.xls', signal) // '## Sheet: Sheet1\n\n| a | b |\n| --- | --- |\n| 1 | 2 |'
 */
export async function xlsToMarkdown(file: string, shownName: string, signal: AbortSignal): Promise<string> {
  let json: string
  try {
    json = await runXlrd(file, signal)
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string }
    if (failure.code === 'ENOENT' || /No module named .?xlrd/.test(failure.stderr ?? '')) {
      return (
        `${shownName} is an old binary Excel workbook (.xls); reading it needs python3 with xlrd ` +
        '(Debian: apt-get install python3-xlrd), which this server lacks. Convert it in the shell if a converter is ' +
        'installed (e.g. `ssconvert file.xls file.xlsx`), then read the result.'
      )
    }
    if (signal.aborted) throw new BerthError('TOOL_ABORTED', `Reading ${shownName} was stopped.`, { cause: error })
    const reason = (failure.stderr ?? '').trim().split('\n').at(-1) || failure.message
    throw new BerthError('DOCUMENT_UNREADABLE', `${shownName} is not a readable .xls workbook: ${reason}`, {
      cause: error,
      details: { file: shownName },
    })
  }
  const sheets = JSON.parse(json) as { name: string; rows: string[][] }[]
  return sheetsToMarkdown(sheets, shownName)
}

/**
 * `python3` first (a user's own Python with xlrd), then Debian's own, where
 * `python3-xlrd` installs it (a pyenv or venv Python on PATH does not see it).
 */
const PYTHONS = ['python3', '/usr/bin/python3']

async function runXlrd(file: string, signal: AbortSignal): Promise<string> {
  let lastError: unknown
  for (const python of PYTHONS) {
    try {
      return await runPython(python, file, signal)
    } catch (error) {
      lastError = error
      const failure = error as NodeJS.ErrnoException & { stderr?: string }
      if (!(failure.code === 'ENOENT' || /No module named .?xlrd/.test(failure.stderr ?? ''))) throw error
    }
  }
  throw lastError
}

function runPython(python: string, file: string, signal: AbortSignal): Promise<string> {
  // Only what Python needs to start: no keys or settings of berth's reach the parser.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/' }
  return new Promise((resolve, reject) => {
    execFile(
      python,
      ['-c', XLRD_SCRIPT, file],
      { signal, timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8', env },
      (error, stdout, stderr) => (error ? reject(Object.assign(error, { stderr })) : resolve(stdout)),
    )
  })
}

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import ExcelJS from 'exceljs'
import { ZipFile } from 'yazl'

/**
 * Documents with known contents, built in the test itself (no binary files in
 * the repository, no tools beyond node_modules): a PDF written by hand, DOCX
 * and PPTX as zips of minimal XML parts, XLSX through exceljs.
 */

/** A valid PDF with one Helvetica text line per entry of `pages[i]`; `encrypted` adds a standard security handler whose empty user password is wrong. */
export function makePdf(pages: readonly (readonly string[])[], opts: { encrypted?: boolean } = {}): Buffer {
  const objects: string[] = []
  const add = (body: string) => objects.push(body) // object number = index + 1
  add('<< /Type /Catalog /Pages 2 0 R >>')
  add('') // pages, filled in below
  add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>')
  const kids: number[] = []
  for (const lines of pages) {
    const ops = lines.map((line, i) => `${i === 0 ? '72 720 Td' : '0 -16 Td'} (${escapePdf(line)}) Tj`).join('\n')
    const stream = `BT /F1 12 Tf\n${ops}\nET`
    add(`<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`)
    const contents = objects.length
    add(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents ${contents} 0 R >>`,
    )
    kids.push(objects.length)
  }
  objects[1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`
  let encrypt = ''
  if (opts.encrypted) {
    add(`<< /Filter /Standard /V 1 /R 2 /O <${'11'.repeat(32)}> /U <${'22'.repeat(32)}> /P -4 >>`)
    encrypt = ` /Encrypt ${objects.length} 0 R`
  }
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n'
  const offsets: number[] = []
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'))
    out += `${i + 1} 0 obj\n${body}\nendobj\n`
  })
  const xref = Buffer.byteLength(out, 'latin1')
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`
  const id = '0123456789abcdef0123456789abcdef'
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R${encrypt} /ID [<${id}> <${id}>] >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(out, 'latin1')
}

function escapePdf(text: string): string {
  return text.replace(/[\\()]/g, (c) => `\\${c}`)
}

/** A zip of the given entries, in the given order (yazl, deflated); `modes` sets Unix modes, e.g. a symlink's 0o120777. */
export async function makeZip(
  entries: Record<string, string | Buffer>,
  opts: { modes?: Record<string, number> } = {},
): Promise<Buffer> {
  const zip = new ZipFile()
  for (const [name, data] of Object.entries(entries)) {
    const mode = opts.modes?.[name]
    zip.addBuffer(typeof data === 'string' ? Buffer.from(data) : data, name, mode === undefined ? {} : { mode })
  }
  zip.end()
  const chunks: Buffer[] = []
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

const CONTENT_TYPES = (overrides: string) =>
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' +
  '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
  `<Default Extension="xml" ContentType="application/xml"/>${overrides}</Types>`

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

/** A DOCX: a heading, paragraphs and one table (first row the header). */
export async function makeDocx(doc: { heading: string; paragraphs: string[]; table: string[][] }): Promise<Buffer> {
  const para = (text: string, style?: string) =>
    `<w:p>${style ? `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>` : ''}<w:r><w:t xml:space="preserve">${xml(text)}</w:t></w:r></w:p>`
  const rows = doc.table
    .map((row) => `<w:tr>${row.map((cell) => `<w:tc><w:tcPr/>${para(cell)}</w:tc>`).join('')}</w:tr>`)
    .join('')
  const paragraphs = doc.paragraphs.map((p) => para(p)).join('')
  const body = `${para(doc.heading, 'Heading1')}${paragraphs}<w:tbl>${rows}</w:tbl>${para('')}`
  const styles =
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:styles ${W}>` +
    '<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style></w:styles>'
  return makeZip({
    '[Content_Types].xml': CONTENT_TYPES(
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>' +
        '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>',
    ),
    '_rels/.rels':
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    'word/_rels/document.xml.rels':
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
    'word/styles.xml': styles,
    'word/document.xml': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ${W}><w:body>${body}</w:body></w:document>`,
  })
}

/**
 * A PPTX of `slides` (slide i in part `slide<i+1>.xml`). `zipOrder` is the order the parts are
 * written in; `deckOrder` (part indices) writes the presentation's slide list, the order the deck shows.
 */
export async function makePptx(
  slides: string[][],
  opts: { zipOrder?: number[]; deckOrder?: number[] } = {},
): Promise<Buffer> {
  const P = 'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
  const R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
  const list =
    opts.deckOrder === undefined
      ? ''
      : `<p:sldIdLst>${opts.deckOrder.map((i, n) => `<p:sldId id="${256 + n}" r:id="rId${i + 10}"/>`).join('')}</p:sldIdLst>`
  const parts: Record<string, string> = {
    '[Content_Types].xml': CONTENT_TYPES(
      '<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>',
    ),
    'ppt/presentation.xml': `<?xml version="1.0" encoding="UTF-8"?><p:presentation ${P} ${R}>${list}</p:presentation>`,
    'ppt/_rels/presentation.xml.rels':
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
      slides
        .map(
          (_, i) =>
            `<Relationship Id="rId${i + 10}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide${i + 1}.xml"/>`,
        )
        .join('') +
      '</Relationships>',
  }
  for (const i of opts.zipOrder ?? slides.map((_, i) => i)) {
    const paragraphs = (slides[i] ?? [])
      .map((line) => `<a:p><a:r><a:rPr lang="en-US"/><a:t>${xml(line)}</a:t></a:r></a:p>`)
      .join('')
    parts[`ppt/slides/slide${i + 1}.xml`] =
      `<?xml version="1.0" encoding="UTF-8"?><p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" ${P}>` +
      `<p:cSld><p:spTree><p:sp><p:txBody><a:bodyPr/>${paragraphs}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>`
  }
  return makeZip(parts)
}

/** An XLSX with one worksheet per entry, rows as given (first row the header). */
export async function makeXlsx(sheets: Record<string, (string | number)[][]>): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook()
  for (const [name, rows] of Object.entries(sheets)) {
    const sheet = workbook.addWorksheet(name)
    for (const row of rows) sheet.addRow(row)
  }
  return Buffer.from(await workbook.xlsx.writeBuffer())
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/**
 * An old binary Excel workbook (.xls), written by Debian's python3-xlwt (which .ci/run installs):
 * strings and numbers as given, `{ date: 'YYYY-MM-DD' }` as a date cell.
 */
export async function makeXls(sheets: Record<string, (string | number | { date: string })[][]>): Promise<Buffer> {
  const script = `
import json, sys, datetime, xlwt
book = xlwt.Workbook()
dates = xlwt.easyxf(num_format_str='YYYY-MM-DD')
for name, rows in json.loads(sys.argv[1]).items():
    sheet = book.add_sheet(name)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dict):
                sheet.write(r, c, datetime.datetime.strptime(value['date'], '%Y-%m-%d'), dates)
            else:
                sheet.write(r, c, value)
book.save(sys.stdout.buffer)
`
  const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script, JSON.stringify(sheets)], {
    encoding: 'buffer',
  })
  return stdout
}

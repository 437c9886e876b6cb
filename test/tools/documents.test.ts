import { mkdir, readdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from '../../src/tools/documents/limits.js'
import { MAX_PARSE_THREADS, parseThreadsInUse } from '../../src/tools/documents/parse-thread.js'
import { readDocument } from '../../src/tools/documents/read-document.js'
import { readEntry, unpackBudget } from '../../src/tools/documents/zip.js'
import { createGetTextFromLocalFileTool } from '../../src/tools/get-text-from-local-file.js'
import { createPdfTextExtractTool } from '../../src/tools/pdf-text-extract.js'
import { runTool } from '../../src/tools/run-tool.js'
import { createToolset, toolSpecs } from '../../src/tools/toolset.js'
import { PNG_1PX } from '../helpers/images.js'
import { makeDocx, makePdf, makePptx, makeXls, makeXlsx, makeZip } from './documents-fixtures.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'

let context: FakeToolContext
afterEach(async () => {
  await context?.resources.dispose()
})

const getText = createGetTextFromLocalFileTool()
const pdfExtract = createPdfTextExtractTool()

async function put(relative: string, data: string | Buffer): Promise<void> {
  const target = path.join(context.workspaceDir, relative)
  await mkdir(path.dirname(target), { recursive: true })
  await writeFile(target, data)
}

async function read(filePath: string, limits?: Partial<DocumentLimits>): Promise<string> {
  return readDocument(context, filePath, { limits: { ...DEFAULT_DOCUMENT_LIMITS, ...limits } })
}

const PDF_TEXT =
  'PDF: uploaded_files/report.pdf, 3 pages\n\n--- Page 1 ---\nQuarterly report\nRevenue (EUR): 1200\n\n--- Page 2 ---\nSecond page text\n\n--- Page 3 ---\nThe end'

describe('get_text_from_local_file and pdf_text_extract on PDFs', () => {
  it('give the text of every page under its number, inline and on a worker thread', async () => {
    context = await makeToolContext()
    await put(
      'uploaded_files/report.pdf',
      makePdf([['Quarterly report', 'Revenue (EUR): 1200'], ['Second page text'], ['The end']]),
    )
    expect(await runTool(getText, { file_path: 'uploaded_files/report.pdf' }, context)).toEqual({ output: PDF_TEXT })
    expect(await runTool(pdfExtract, { file_path: '/workspace/uploaded_files/report.pdf' }, context)).toEqual({
      output: PDF_TEXT,
    })
    // Same text when the file counts as large and is parsed on its own thread.
    expect(await read('uploaded_files/report.pdf', { workerMinBytes: 0 })).toBe(PDF_TEXT)
  })

  it('refuse an encrypted PDF with a clear error, inline and on a worker thread', async () => {
    context = await makeToolContext()
    await put('secret.pdf', makePdf([['classified']], { encrypted: true }))
    const result = await runTool(pdfExtract, { file_path: 'secret.pdf' }, context)
    expect(result.isError).toBe(true)
    expect(result.output).toContain('secret.pdf is an encrypted PDF that needs a password')
    await expect(read('secret.pdf')).rejects.toMatchObject({ code: 'DOCUMENT_UNREADABLE' })
    await expect(read('secret.pdf', { workerMinBytes: 0 })).rejects.toMatchObject({
      code: 'DOCUMENT_UNREADABLE',
      message: expect.stringContaining('encrypted PDF'),
    })
  })

  it('stops a worker parse that outlives its time limit', async () => {
    context = await makeToolContext()
    await put('slow.pdf', makePdf([['x']]))
    await expect(read('slow.pdf', { workerMinBytes: 0, parseTimeoutMs: 1 })).rejects.toMatchObject({
      code: 'DOCUMENT_UNREADABLE',
      message: expect.stringContaining('took longer than'),
    })
    const controller = new AbortController()
    controller.abort()
    await expect(
      readDocument({ ...context, signal: controller.signal }, 'slow.pdf', {
        limits: { ...DEFAULT_DOCUMENT_LIMITS, workerMinBytes: 0 },
      }),
    ).rejects.toMatchObject({ code: 'TOOL_ABORTED' })
  })

  it(`runs at most ${MAX_PARSE_THREADS} parse threads at once; one waiting can be cancelled, and the slots are given back`, async () => {
    context = await makeToolContext()
    await put('a.pdf', makePdf([['alpha']]))
    const onThread = { ...DEFAULT_DOCUMENT_LIMITS, workerMinBytes: 0 }
    const finished: string[] = []
    const running = Array.from({ length: MAX_PARSE_THREADS }, (_, i) =>
      readDocument(context, 'a.pdf', { limits: onThread }).then((text) => {
        finished.push(`running ${i}`)
        return text
      }),
    )
    await until(() => parseThreadsInUse().running === MAX_PARSE_THREADS)
    const controller = new AbortController()
    const waiting = readDocument({ ...context, signal: controller.signal }, 'a.pdf', { limits: onThread }).catch(
      (error: unknown) => {
        finished.push('waiting')
        throw error
      },
    )
    await until(() => parseThreadsInUse().waiting === 1)
    expect(parseThreadsInUse()).toEqual({ running: MAX_PARSE_THREADS, waiting: 1 })
    controller.abort()
    await expect(waiting).rejects.toMatchObject({ code: 'TOOL_ABORTED' })
    expect(finished).toEqual(['waiting'])
    expect(parseThreadsInUse()).toEqual({ running: MAX_PARSE_THREADS, waiting: 0 })
    // One more waits, and gets the first slot given back.
    const next = readDocument(context, 'a.pdf', { limits: onThread })
    await until(() => parseThreadsInUse().waiting === 1)
    for (const text of [...(await Promise.all(running)), await next]) expect(text).toContain('--- Page 1 ---\nalpha')
    expect(parseThreadsInUse()).toEqual({ running: 0, waiting: 0 })
  })

  it('pdf_text_extract refuses anything that is not a PDF', async () => {
    context = await makeToolContext()
    await put('notes.txt', 'just text')
    const result = await runTool(pdfExtract, { file_path: 'notes.txt' }, context)
    expect(result).toEqual({
      output: 'Error: notes.txt is not a PDF. Use get_text_from_local_file for other kinds of files.',
      isError: true,
    })
  })
})

describe('get_text_from_local_file on office documents', () => {
  it('turns a DOCX into markdown with its table kept', async () => {
    context = await makeToolContext()
    await put(
      'uploaded_files/memo.docx',
      await makeDocx({
        heading: 'Stock check',
        paragraphs: ['Counted on Monday.', 'Prices in EUR | incl. tax'],
        table: [
          ['Item', 'Count', 'Price'],
          ['Apples', '12', '0.50'],
          ['Pears', '7', '0.80'],
        ],
      }),
    )
    const result = await runTool(getText, { file_path: 'uploaded_files/memo.docx' }, context)
    expect(result).toEqual({
      output:
        '# Stock check\n\nCounted on Monday.\n\nPrices in EUR | incl. tax\n\n' +
        '| Item | Count | Price |\n| --- | --- | --- |\n| Apples | 12 | 0.50 |\n| Pears | 7 | 0.80 |',
    })
  })

  it('gives every sheet of an XLSX as a markdown table under its name', async () => {
    context = await makeToolContext()
    await put(
      'book.xlsx',
      await makeXlsx({
        Sales: [
          ['Region', 'Q1', 'Q2'],
          ['North', 10, 12.5],
          ['South', 7, 'n/a'],
        ],
        'Empty sheet': [],
        Notes: [['Remark'], ['a | b']],
      }),
    )
    expect(await read('book.xlsx')).toBe(
      '## Sheet: Sales\n\n| Region | Q1 | Q2 |\n| --- | --- | --- |\n| North | 10 | 12.5 |\n| South | 7 | n/a |\n\n' +
        '## Sheet: Empty sheet\n\n(empty)\n\n' +
        '## Sheet: Notes\n\n| Remark |\n| --- |\n| a \\| b |',
    )
    // The same on a worker thread.
    expect(await read('book.xlsx', { workerMinBytes: 0 })).toContain('| North | 10 | 12.5 |')
  })

  it('gives every sheet of an old binary .xls workbook as a markdown table (through python3-xlrd)', async () => {
    context = await makeToolContext()
    await put(
      'old.xls',
      await makeXls({
        Sales: [
          ['Region', 'Q1', 'Q2'],
          ['North', 10, 12.5],
          ['South', 7, 'n/a'],
        ],
        Dates: [['Day'], [{ date: '2024-03-01' }]],
      }),
    )
    expect(await read('old.xls')).toBe(
      '## Sheet: Sales\n\n| Region | Q1 | Q2 |\n| --- | --- | --- |\n| North | 10 | 12.5 |\n| South | 7 | n/a |\n\n' +
        '## Sheet: Dates\n\n| Day |\n| --- |\n| 2024-03-01 |',
    )
    // An OLE file that is no workbook: a clear error, not a crash.
    await put('broken.xls', Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(600, 7)]))
    await expect(read('broken.xls')).rejects.toMatchObject({ code: 'DOCUMENT_UNREADABLE' })
  })

  it('reads a CSV with quoted fields as one table', async () => {
    context = await makeToolContext()
    await put('data.csv', '\ufeffname,comment\r\nAda,"likes, commas"\r\nBob,"said ""hi""\non two lines"\r\n')
    expect(await read('data.csv', { workerMinBytes: 0 })).toBe(
      '## Sheet: data.csv\n\n| name | comment |\n| --- | --- |\n| Ada | likes, commas |\n| Bob | said "hi" on two lines |',
    )
    expect(await read('data.csv')).toBe(
      '## Sheet: data.csv\n\n| name | comment |\n| --- | --- |\n| Ada | likes, commas |\n| Bob | said "hi" on two lines |',
    )
  })

  it("follows the deck's own slide list when slides were moved", async () => {
    context = await makeToolContext()
    await put('moved.pptx', await makePptx([['made first'], ['made second'], ['made third']], { deckOrder: [2, 0, 1] }))
    expect(await read('moved.pptx')).toBe(
      'Presentation: moved.pptx, 3 slides\n\n--- Slide 1 ---\nmade third\n\n--- Slide 2 ---\nmade first\n\n--- Slide 3 ---\nmade second',
    )
  })

  it('gives the text of a PPTX slide by slide in slide order, whatever the zip order', async () => {
    context = await makeToolContext()
    const slides = [['Welcome', 'to the deck'], ['Numbers & facts', '42 < 43'], ['Thanks']]
    for (let i = 10; i < 12; i++) slides.push([`Slide ${i - 6}`])
    // Written as slide10/11 before slide2, so string order and zip order would both be wrong.
    await put('deck.pptx', await makePptx(slides, { zipOrder: [3, 4, 2, 0, 1] }))
    expect(await read('deck.pptx')).toBe(
      'Presentation: deck.pptx, 5 slides\n\n--- Slide 1 ---\nWelcome\nto the deck\n\n--- Slide 2 ---\nNumbers & facts\n42 < 43\n\n' +
        '--- Slide 3 ---\nThanks\n\n--- Slide 4 ---\nSlide 4\n\n--- Slide 5 ---\nSlide 5',
    )
  })
})

describe('get_text_from_local_file on archives', () => {
  it('unpacks a ZIP beside itself, lists it, and the members are readable by a further call', async () => {
    context = await makeToolContext()
    await put(
      'uploaded_files/bundle.zip',
      await makeZip({
        'readme.txt': 'Read me first\n',
        'data/table.csv': 'a,b\n1,2\n',
        'data/inner.pdf': makePdf([['Inside the zip']]),
      }),
    )
    const listing = await runTool(getText, { file_path: 'uploaded_files/bundle.zip' }, context)
    expect(listing.isError).toBeUndefined()
    expect(listing.output).toMatch(
      /^ZIP archive uploaded_files\/bundle\.zip: 3 files, [\d.]+ (B|KB) unpacked into uploaded_files\/bundle_extracted\/\n/,
    )
    expect(listing.output).toContain('- uploaded_files/bundle_extracted/readme.txt (14 B)\n')
    expect(listing.output).toContain('- uploaded_files/bundle_extracted/data/table.csv (8 B)\n')
    expect(listing.output).toContain('Read any of these files with get_text_from_local_file.')
    expect(await readFile(path.join(context.workspaceDir, 'uploaded_files/bundle_extracted/readme.txt'), 'utf8')).toBe(
      'Read me first\n',
    )
    expect(
      (await runTool(getText, { file_path: 'uploaded_files/bundle_extracted/data/table.csv' }, context)).output,
    ).toBe('## Sheet: uploaded_files/bundle_extracted/data/table.csv\n\n| a | b |\n| --- | --- |\n| 1 | 2 |')
    expect(
      (await runTool(pdfExtract, { file_path: 'uploaded_files/bundle_extracted/data/inner.pdf' }, context)).output,
    ).toBe('PDF: uploaded_files/bundle_extracted/data/inner.pdf, 1 page\n\n--- Page 1 ---\nInside the zip')
    // No temp files are left behind.
    expect((await readdir(path.join(context.workspaceDir, 'uploaded_files/bundle_extracted'))).sort()).toEqual([
      'data',
      'readme.txt',
    ])
  })

  it('refuses a zip bomb before unpacking it, and one whose sizes lie while unpacking, leaving nothing', async () => {
    context = await makeToolContext()
    const zeros = Buffer.alloc(4 * 1024 * 1024)
    await put('bomb.zip', await makeZip({ 'a.bin': zeros, 'b.bin': zeros }))
    const limits = { maxZipUncompressedBytes: 6 * 1024 * 1024, zipRatioFloorBytes: 1024 * 1024, maxZipRatio: 100 }
    await expect(read('bomb.zip', limits)).rejects.toMatchObject({
      code: 'FILE_TOO_LARGE',
      message: expect.stringContaining('unpacks to more than 6.0 MB'),
    })
    await expect(read('bomb.zip', { ...limits, maxZipUncompressedBytes: 100 * 1024 * 1024 })).rejects.toMatchObject({
      code: 'FILE_TOO_LARGE',
      message: expect.stringContaining('looks like a zip bomb'),
    })

    // A small honest member, then a big one whose central directory entry claims 1 KB: the first is
    // unpacked, the second fails while unpacking, and what was written is removed again.
    const lying = await makeZip({ 'ok.txt': 'fine', 'a.bin': zeros })
    lying.writeUInt32LE(1024, lying.lastIndexOf(CENTRAL_HEADER) + 24)
    await put('lying.zip', lying)
    const result = await runTool(getText, { file_path: 'lying.zip' }, context)
    expect(result.isError).toBe(true)
    expect(result.output).toContain('lying.zip is not a readable zip archive: too many bytes in the stream')
    const extracted = path.join(context.workspaceDir, 'lying_extracted')
    expect(await readdir(extracted).catch(() => [])).toEqual([])
  })

  it('counts unpacked bytes itself, whatever the archive declares', async () => {
    const budget = unpackBudget('x.zip', { ...DEFAULT_DOCUMENT_LIMITS, maxZipUncompressedBytes: 10 })
    expect((await readEntry(Readable.from([Buffer.from('12345')]), budget)).toString()).toBe('12345')
    await expect(readEntry(Readable.from([Buffer.from('123456')]), budget)).rejects.toMatchObject({
      code: 'FILE_TOO_LARGE',
      message: expect.stringContaining('x.zip unpacks to more than 10 B'),
    })
  })

  it('unpacks only through the one door: no member out of the workspace, no symlink members', async () => {
    context = await makeToolContext()
    // yazl refuses to write '..', so the name is patched in afterwards (local and central headers).
    const escaping = await makeZip({ 'xx/escape.txt': 'out' })
    for (let at = escaping.indexOf('xx/'); at !== -1; at = escaping.indexOf('xx/', at + 3))
      escaping.write('..', at, 'latin1')
    await put('escape.zip', escaping)
    await expect(read('escape.zip')).rejects.toMatchObject({
      code: 'ARCHIVE_INVALID',
      message: expect.stringContaining(
        'escape.zip is not a readable zip archive: invalid relative path: ../escape.txt',
      ),
    })
    expect(await readdir(context.workspaceDir)).not.toContain('escape.txt')

    await put(
      'links.zip',
      await makeZip({ passwd: '/etc/passwd', 'real.txt': 'real' }, { modes: { passwd: 0o120777 } }),
    )
    const listing = await read('links.zip')
    expect(listing).toContain('- links_extracted/real.txt (4 B)\n')
    expect(listing).toContain('Not unpacked:\n- passwd (a symbolic link)')
    expect(await readdir(path.join(context.workspaceDir, 'links_extracted'))).toEqual(['real.txt'])

    // A folder in the way that is a symlink out of the workspace.
    await mkdir(context.outside, { recursive: true })
    await symlink(context.outside, path.join(context.workspaceDir, 'trap_extracted'))
    await put('trap.zip', await makeZip({ 'a.txt': 'a' }))
    await expect(read('trap.zip')).rejects.toMatchObject({ code: 'PATH_OUTSIDE_WORKSPACE' })
    expect(await readdir(context.outside)).toEqual([])
  })

  it('refuses a zip with too many entries', async () => {
    context = await makeToolContext()
    const entries: Record<string, string> = {}
    for (let i = 0; i < 30; i++) entries[`f${i}.txt`] = 'x'
    await put('many.zip', await makeZip(entries))
    await expect(read('many.zip', { maxZipEntries: 20 })).rejects.toMatchObject({
      code: 'FILE_TOO_LARGE',
      message: 'many.zip has 30 entries, more than the 20 allowed. It was not unpacked.',
    })
  })
})

const CENTRAL_HEADER = Buffer.from([0x50, 0x4b, 0x01, 0x02])

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('get_text_from_local_file on web, text, images and audio', () => {
  it('turns HTML into markdown, tables kept and scripts dropped', async () => {
    context = await makeToolContext()
    await put(
      'page.html',
      '<html><head><style>p{}</style><script>alert(1)</script></head><body><h2>Prices</h2><p>See <a href="https://example.com/x">the list</a>.</p>' +
        '<table><tr><th>Fruit</th><th>Price</th></tr><tr><td>Kiwi</td><td>1</td></tr></table></body></html>',
    )
    expect(await read('page.html')).toBe(
      '## Prices\n\nSee [the list](https://example.com/x).\n\n| Fruit | Price |\n| --- | --- |\n| Kiwi | 1 |',
    )
  })

  it('gives JSON-LD, code and text as they are (UTF-16 decoded)', async () => {
    context = await makeToolContext()
    const jsonld = '{"@context": "https://schema.org", "name": "Zoë"}\n'
    await put('meta.jsonld', jsonld)
    await put('script.py', 'print("hi")\n')
    await put('utf16.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Grüße', 'utf16le')]))
    expect(await read('meta.jsonld')).toBe(jsonld)
    expect(await read('script.py')).toBe('print("hi")\n')
    expect(await read('utf16.txt')).toBe('Grüße')
  })

  it('describes an image with its size, dimensions and EXIF, and points to display_image', async () => {
    context = await makeToolContext()
    await put('pixel.png', PNG_1PX)
    await put('photo.jpg', jpegWithExif(640, 480, 'Canon', 'X10'))
    expect(await read('pixel.png')).toBe(
      `Image: pixel.png\nType: image/png\nSize: ${PNG_1PX.length} B (${PNG_1PX.length} bytes)\nDimensions: 1 x 1 pixels\n` +
        'This tool reads no pixels. To look at the image itself, call display_image with image_path "pixel.png".',
    )
    const photo = await read('photo.jpg')
    expect(photo).toContain('Type: image/jpeg\n')
    expect(photo).toContain('Dimensions: 640 x 480 pixels\nEXIF:\n  Make: Canon\n  Model: X10\n')
  })

  it('says plainly that audio needs a transcription provider', async () => {
    context = await makeToolContext()
    await put('voice.mp3', Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'), Buffer.alloc(64)]))
    const result = await runTool(getText, { file_path: 'voice.mp3' }, context)
    expect(result.isError).toBeUndefined()
    expect(result.output).toMatch(
      /^voice\.mp3 is an MP3 audio file \(74 B\)\. Transcribing audio needs a transcription provider/,
    )
  })

  it('shows the start of a long text file and points to the file itself, copying nothing', async () => {
    context = await makeToolContext()
    const log = Array.from({ length: 20_000 }, (_, i) => `event ${i}`).join('\n')
    await put('logs/run.log', log)
    const output = await read('logs/run.log', { maxResultChars: 1000 })
    expect(output.length).toBeLessThanOrEqual(1000)
    expect(output.startsWith('event 0\nevent 1\n')).toBe(true)
    expect(output).toContain(
      `[... logs/run.log goes on: it is ${(log.length / 1024).toFixed(1)} KB (${log.length.toLocaleString('en-US')} bytes) in all. Read further parts with`,
    )
    expect(await readdir(path.join(context.workspaceDir, 'agent_memory'))).toEqual([])
    // Multi-byte text over the byte limit but within the character limit comes back whole.
    const accents = 'é'.repeat(800)
    await put('accents.txt', accents)
    expect(await read('accents.txt', { maxResultChars: 1000 })).toBe(accents)
  })

  it('caps long output and saves the full text under agent_memory/ with a pointer to it', async () => {
    context = await makeToolContext()
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n')
    await put('uploaded_files/long.csv', `n\n${lines}\n`)
    const output = await read('uploaded_files/long.csv', { maxResultChars: 2000 })
    expect(output.length).toBeLessThanOrEqual(2000)
    expect(output.startsWith('## Sheet: uploaded_files/long.csv\n\n| n |\n| --- |\n| line 0 |\n')).toBe(true)
    expect(output).toMatch(
      /\[\.\.\. the text goes on: [\d,]+ characters in all\. The full text is in agent_memory\/uploaded_files__long\.csv\.txt: /,
    )
    const saved = await readFile(path.join(context.workspaceDir, 'agent_memory/uploaded_files__long.csv.txt'), 'utf8')
    expect(saved.endsWith('| line 4999 |')).toBe(true)
    expect(saved.split('\n')).toHaveLength(5004) // title, blank line, header, rule, 5000 rows
  })
})

describe('get_text_from_local_file on bad input', () => {
  it('refuses a symlink that leads out of the workspace', async () => {
    context = await makeToolContext()
    await mkdir(context.outside, { recursive: true })
    await writeFile(path.join(context.outside, 'secret.pdf'), makePdf([['outside']]))
    await symlink(path.join(context.outside, 'secret.pdf'), path.join(context.workspaceDir, 'link.pdf'))
    for (const tool of [getText, pdfExtract]) {
      const result = await runTool(tool, { file_path: 'link.pdf' }, context)
      expect(result.isError).toBe(true)
      expect(result.output).toContain('outside the workspace')
      expect(result.output).not.toContain('outside\n')
    }
    await expect(read('link.pdf')).rejects.toMatchObject({ code: 'PATH_OUTSIDE_WORKSPACE' })
  })

  it('refuses contents that do not match the extension', async () => {
    context = await makeToolContext()
    await put('report.pdf', await makeZip({ 'a.txt': 'a' }))
    await put('notes.txt', Buffer.from([0x00, 0x01, 0x02, 0x03]))
    await put('sheet.xlsx', await makeZip({ 'a.txt': 'a' }))
    await put('photo.png', 'not an image at all')
    await expect(read('report.pdf')).rejects.toMatchObject({
      code: 'FILE_TYPE_MISMATCH',
      message: expect.stringContaining(
        'report.pdf does not contain what its name says (.pdf): its contents are a zip archive.',
      ),
    })
    await expect(read('notes.txt')).rejects.toMatchObject({
      code: 'FILE_TYPE_MISMATCH',
      message: expect.stringContaining('its contents are binary data of an unknown type'),
    })
    await expect(read('sheet.xlsx')).rejects.toMatchObject({
      code: 'FILE_TYPE_MISMATCH',
      message: expect.stringContaining('sheet.xlsx is a zip archive but not an Excel workbook'),
    })
    await expect(read('photo.png')).rejects.toMatchObject({ code: 'FILE_TYPE_MISMATCH' })
    const viaTool = await runTool(pdfExtract, { file_path: 'report.pdf' }, context)
    expect(viaTool.isError).toBe(true)
    expect(viaTool.output).toContain('its contents are a zip archive')
  })

  it('refuses a file over the size cap, a corrupt PDF, a folder and a missing file', async () => {
    context = await makeToolContext()
    // A 500 MB PDF (sparse: costs no disk) against the default 200 MB cap.
    await put('huge.pdf', '%PDF-1.7\n')
    await truncate(path.join(context.workspaceDir, 'huge.pdf'), 500 * 1024 * 1024)
    const huge = await runTool(pdfExtract, { file_path: 'huge.pdf' }, context)
    expect(huge.isError).toBe(true)
    expect(huge.output).toContain('huge.pdf is 500.0 MB, more than the 200.0 MB this tool reads')
    await put('big.txt', 'x'.repeat(2048))
    await put('broken.pdf', '%PDF-1.4\nthis is not really a pdf\n')
    await expect(read('big.txt', { maxFileBytes: 1024 })).rejects.toMatchObject({
      code: 'FILE_TOO_LARGE',
      message: expect.stringContaining('big.txt is 2.0 KB, more than the 1.0 KB this tool reads'),
    })
    await expect(read('broken.pdf')).rejects.toMatchObject({ code: 'DOCUMENT_UNREADABLE' })
    await expect(read('uploaded_files')).rejects.toMatchObject({ code: 'PATH_IS_A_FOLDER' })
    await expect(read('nope.docx')).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' })
    // The context is still usable after all of these.
    await put('fine.txt', 'still fine')
    expect(await read('fine.txt')).toBe('still fine')
  })
})

/** A JPEG header: SOI, an APP1 Exif block (big-endian TIFF, IFD0 with Make and Model), SOF0 with the size, EOI. */
function jpegWithExif(width: number, height: number, make: string, model: string): Buffer {
  const makeBytes = Buffer.from(`${make}\0`, 'latin1')
  const modelBytes = Buffer.from(`${model}\0`, 'latin1') // at most 4 bytes: stored inline
  const tiff = Buffer.alloc(8 + 2 + 2 * 12 + 4 + makeBytes.length)
  tiff.write('MM', 0, 'latin1')
  tiff.writeUInt16BE(42, 2)
  tiff.writeUInt32BE(8, 4)
  tiff.writeUInt16BE(2, 8)
  const dataAt = 8 + 2 + 2 * 12 + 4
  tiff.writeUInt16BE(0x010f, 10)
  tiff.writeUInt16BE(2, 12)
  tiff.writeUInt32BE(makeBytes.length, 14)
  tiff.writeUInt32BE(dataAt, 18)
  tiff.writeUInt16BE(0x0110, 22)
  tiff.writeUInt16BE(2, 24)
  tiff.writeUInt32BE(modelBytes.length, 26)
  modelBytes.copy(tiff, 30)
  makeBytes.copy(tiff, dataAt)
  const app1Body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff])
  const app1 = Buffer.alloc(4)
  app1.writeUInt16BE(0xffe1, 0)
  app1.writeUInt16BE(app1Body.length + 2, 2)
  const sof = Buffer.alloc(19)
  sof.writeUInt16BE(0xffc0, 0)
  sof.writeUInt16BE(17, 2)
  sof[4] = 8
  sof.writeUInt16BE(height, 5)
  sof.writeUInt16BE(width, 7)
  sof[9] = 3
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app1, app1Body, sof, Buffer.from([0xff, 0xd9])])
}

describe('the toolset', () => {
  it('offers both readers with the reference names and their one required file_path', () => {
    const specs = toolSpecs(createToolset({ bashTimeout: 10 }))
    for (const name of ['get_text_from_local_file', 'pdf_text_extract']) {
      const spec = specs.find((s) => s.name === name)
      expect(spec?.inputSchema, name).toMatchObject({
        type: 'object',
        properties: { file_path: { type: 'string' } },
        required: ['file_path'],
      })
      expect(Object.keys(spec?.inputSchema.properties as object)).toEqual(['file_path'])
    }
  })
})

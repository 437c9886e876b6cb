import { readFile } from 'node:fs/promises'
import { BerthError } from '../../core/errors.js'

/**
 * The text of a PDF, page by page, each under a `--- Page N ---` line.
 * An encrypted or broken PDF is `DOCUMENT_UNREADABLE`.
 *
 * @example
 *   await pdfToText('/ws/a.pdf', 'a.pdf') // 'PDF: a.pdf, 2 pages\n\n--- Page 1 ---\n...'
 */
export async function pdfToText(file: string, shownName: string): Promise<string> {
  const data = new Uint8Array(await readFile(file))
  // Loaded on first use, like the other document libraries (start-up time of every command).
  const { PDFParse } = await import('pdf-parse')
  const parser = new PDFParse({ data, verbosity: 0 })
  try {
    const result = await parser.getText()
    const pages = result.pages.map((page) => `--- Page ${page.num} ---\n${page.text.trim()}`)
    const header = `PDF: ${shownName}, ${result.total} page${result.total === 1 ? '' : 's'}`
    const body = pages.join('\n\n')
    const empty = result.pages.every((page) => page.text.trim() === '')
    const note = empty
      ? '\n\n(No text layer: the pages are probably scanned images. Render a page to an image and look at it instead.)'
      : ''
    return `${header}\n\n${body}${note}`
  } catch (error) {
    throw unreadable(shownName, error)
  } finally {
    await parser.destroy().catch(() => undefined)
  }
}

function unreadable(shownName: string, error: unknown): BerthError {
  const name = error instanceof Error ? error.name : ''
  const reason = error instanceof Error ? error.message : String(error)
  if (name === 'PasswordException') {
    return new BerthError(
      'DOCUMENT_UNREADABLE',
      `${shownName} is an encrypted PDF that needs a password; its text cannot be read. Ask the user for an unencrypted copy.`,
      { details: { file: shownName, reason: 'encrypted' } },
    )
  }
  return new BerthError('DOCUMENT_UNREADABLE', `${shownName} is not a readable PDF: ${reason}`, {
    cause: error,
    details: { file: shownName },
  })
}

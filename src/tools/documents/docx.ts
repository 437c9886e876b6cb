import { BerthError } from '../../core/errors.js'
import { htmlToMarkdown } from './markdown.js'

/**
 * A Word document as markdown: mammoth turns it into HTML (headings, lists,
 * tables), turndown with a table rule turns that into markdown. Mammoth's
 * own markdown output drops tables, hence the detour.
 *
 * @example
 *   await docxToMarkdown('/ws/a.docx', 'a.docx') // '# Title\n\n| Name | Qty |\n| --- | --- |\n...'
 */
export async function docxToMarkdown(file: string, shownName: string): Promise<string> {
  let html: string
  try {
    const { default: mammoth } = await import('mammoth') // loaded on first use (start-up time)
    html = (await mammoth.convertToHtml({ path: file })).value
  } catch (error) {
    throw new BerthError(
      'DOCUMENT_UNREADABLE',
      `${shownName} is not a readable Word document: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, details: { file: shownName } },
    )
  }
  const markdown = htmlToMarkdown(html)
  return markdown === '' ? `${shownName} holds no text.` : markdown
}

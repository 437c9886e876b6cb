import { z } from 'zod'
import type { DocumentLimits } from './documents/limits.js'
import { readDocument } from './documents/read-document.js'
import { defineTool, type Tool } from './tool.js'

const parameters = z.object({
  file_path: z.string().describe("Path of the PDF in the workspace, e.g. 'uploaded_files/paper.pdf'."),
})

/**
 * The `pdf_text_extract` tool (the reference's name and schema): the text of
 * a PDF in the workspace, page by page. Anything else is refused.
 *
 * @example
 *   await runTool(createPdfTextExtractTool(), { file_path: 'uploaded_files/paper.pdf' }, ctx)
 */
export function createPdfTextExtractTool(opts: { limits?: DocumentLimits } = {}): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'pdf_text_extract',
    description: 'Extract the text of a PDF file in the workspace, page by page.',
    parameters,
    async execute(input, context) {
      return { output: await readDocument(context, input.file_path, { ...opts, only: 'pdf' }) }
    },
  })
}

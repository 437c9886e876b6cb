import { z } from 'zod'
import type { TranscriptionProvider } from '../media/types.js'
import type { DocumentLimits } from './documents/limits.js'
import { readDocument } from './documents/read-document.js'
import { defineTool, type Tool } from './tool.js'

const parameters = z.object({
  file_path: z
    .string()
    .describe("Path of the file to read, relative to the workspace, e.g. 'uploaded_files/report.docx'."),
})

/**
 * The `get_text_from_local_file` tool (the reference's name and schema):
 * the text of a workspace file, whatever its type. See `readDocument`.
 *
 * @example
 *   await runTool(createGetTextFromLocalFileTool(), { file_path: 'uploaded_files/report.docx' }, ctx)
 */
export function createGetTextFromLocalFileTool(
  opts: { limits?: DocumentLimits; transcription?: TranscriptionProvider } = {},
): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'get_text_from_local_file',
    description:
      'Get the text content of a file in the workspace. PDF: text per page. DOCX and HTML: markdown, tables kept. ' +
      'XLSX and CSV: every sheet as a markdown table with its name. PPTX: text per slide. ZIP: unpacked beside the archive ' +
      'into <name>_extracted/ and listed, so each file can be read with another call. JSON, XML, text and code: as is. ' +
      'Images: type, size and EXIF only (use display_image to see one). ' +
      (opts.transcription ? 'Audio: transcribed. ' : '') +
      'Long results are cut; the full text is saved ' +
      'under agent_memory/ and its path given.',
    parameters,
    async execute(input, context) {
      return { output: await readDocument(context, input.file_path, opts) }
    },
  })
}

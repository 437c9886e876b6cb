import type { DocumentLimits } from './limits.js'

/** The formats whose parsing can hold a thread for seconds: run on a worker when the file is large. */
export type HeavyKind = 'pdf' | 'docx' | 'xlsx' | 'pptx' | 'csv' | 'html'

export interface ParseJob {
  kind: HeavyKind
  file: string
  shownName: string
  limits: DocumentLimits
}

/**
 * Parse one document in the calling thread (the worker calls this too).
 * Parsers are imported on first use: the server does not load pdf.js,
 * exceljs, mammoth or turndown until a document is read.
 *
 * @example
 *   await parseDocument({ kind: 'pdf', file: '/ws/a.pdf', shownName: 'a.pdf', limits })
 */
export async function parseDocument(job: ParseJob): Promise<string> {
  switch (job.kind) {
    case 'pdf':
      return (await import('./pdf.js')).pdfToText(job.file, job.shownName)
    case 'docx':
      return (await import('./docx.js')).docxToMarkdown(job.file, job.shownName)
    case 'xlsx':
      return (await import('./spreadsheet.js')).xlsxToMarkdown(job.file, job.shownName)
    case 'pptx':
      return (await import('./pptx.js')).pptxToText(job.file, job.shownName, job.limits)
    case 'csv':
      return (await import('./spreadsheet.js')).csvToMarkdown(job.file, job.shownName)
    case 'html': {
      const { htmlToMarkdown } = await import('./markdown.js')
      return htmlToMarkdown(await (await import('./text.js')).readTextFile(job.file))
    }
  }
}

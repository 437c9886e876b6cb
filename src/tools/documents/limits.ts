/**
 * Bounds on what the document readers take in, so one upload cannot take the
 * server's memory, disk or event loop. Tests pass smaller values.
 */
export interface DocumentLimits {
  /** Largest input file read at all. */
  maxFileBytes: number
  /** Most entries in a zip (a ZIP itself, or a DOCX/XLSX/PPTX). */
  maxZipEntries: number
  /** Most bytes a zip may unpack to, counted while unpacking, not only as declared. */
  maxZipUncompressedBytes: number
  /** Above this many uncompressed bytes, an overall ratio over `maxZipRatio` is refused as a bomb. */
  zipRatioFloorBytes: number
  maxZipRatio: number
  /** PDFs, spreadsheets and office files larger than this are parsed on a worker thread. */
  workerMinBytes: number
  /** A parse that takes longer is stopped (the worker is terminated). */
  parseTimeoutMs: number
  /** The longest text handed back; the full text goes to `agent_memory/`. */
  maxResultChars: number
}

export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = {
  maxFileBytes: 200 * 1024 * 1024,
  maxZipEntries: 10_000,
  maxZipUncompressedBytes: 512 * 1024 * 1024,
  zipRatioFloorBytes: 64 * 1024 * 1024,
  maxZipRatio: 200,
  // bench:tools: exceljs holds the event loop ~370 ms for a 0.5 MB (100,000-cell) workbook; pdf.js yields often.
  workerMinBytes: 1024 * 1024,
  parseTimeoutMs: 120_000,
  // Under runTool's 30 000-character cap, so the pointer to the full text is never cut off.
  maxResultChars: 25_000,
}

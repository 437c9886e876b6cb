import { open, stat } from 'node:fs/promises'
import { BerthError } from '../../core/errors.js'
import { formatBytes } from '../../core/format-bytes.js'
import type { TranscriptionProvider } from '../../media/types.js'
import { transcribeFile } from '../media/audio-transcribe.js'
import type { ToolContext } from '../tool.js'
import { resolveToolPath } from '../workspace-path.js'
import { type DocumentKind, detectKind, extensionOf, type Sniffed, sniff } from './detect.js'
import { extractZip } from './extract-zip.js'
import { capWithFullText } from './full-text.js'
import { imageInfo } from './image-info.js'
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from './limits.js'
import { type HeavyKind, parseDocument } from './parse.js'
import { parseOnWorkerThread } from './parse-thread.js'
import { readTextFile, readTextHead } from './text.js'
import { xlsToMarkdown } from './xls.js'
import { listZip } from './zip.js'

/** Enough for magic numbers and a JPEG's EXIF block, which sits near the start. */
const HEAD_BYTES = 256 * 1024
/** An inline parse slower than this is logged: the event loop was held that long. */
const SLOW_INLINE_MS = 500

/** The part each Office format must contain; a zip without it is not that format. */
const OFFICE_PARTS: Partial<Record<DocumentKind, { part: string; name: string }>> = {
  docx: { part: 'word/document.xml', name: 'a Word document' },
  xlsx: { part: 'xl/workbook.xml', name: 'an Excel workbook' },
  pptx: { part: 'ppt/presentation.xml', name: 'a PowerPoint presentation' },
}

export interface ReadDocumentOptions {
  limits?: DocumentLimits
  /** `pdf_text_extract`: anything but a PDF is refused. */
  only?: 'pdf'
  /** Audio is transcribed with it when configured (as `audio_transcribe` does), else described. */
  transcription?: TranscriptionProvider
}

/**
 * Read a workspace file as text for the model, by what it really is (its
 * first bytes and its extension together): PDF page by page, DOCX and HTML
 * as markdown, spreadsheets as markdown tables per sheet, PPTX slide by
 * slide, a ZIP unpacked beside itself, images described, text as is.
 * Refusals are BerthErrors: outside the workspace, too large, a zip bomb,
 * an encrypted PDF, contents that do not match the extension.
 *
 * @example
 *   const text = await readDocument(context, 'uploaded_files/report.pdf')
 */
export async function readDocument(
  context: ToolContext,
  filePath: string,
  options: ReadDocumentOptions = {},
): Promise<string> {
  const limits = options.limits ?? DEFAULT_DOCUMENT_LIMITS
  const { absolute, relative } = await resolveToolPath(context, filePath)
  const info = await stat(absolute).catch(() => null)
  if (info === null) {
    throw new BerthError(
      'FILE_NOT_FOUND',
      `File not found: ${relative}. Use list_files to see what is in the workspace.`,
      {
        details: { path: relative },
      },
    )
  }
  if (info.isDirectory()) {
    throw new BerthError(
      'PATH_IS_A_FOLDER',
      `${relative} is a folder, not a file. Use list_files to see what is in it.`,
      {
        details: { path: relative },
      },
    )
  }
  if (info.size > limits.maxFileBytes) {
    throw new BerthError(
      'FILE_TOO_LARGE',
      `${relative} is ${formatBytes(info.size)}, more than the ${formatBytes(limits.maxFileBytes)} this tool reads. ` +
        'Work on it with bash instead (e.g. split it, or read parts with head/tail).',
      { details: { path: relative, bytes: info.size, limitBytes: limits.maxFileBytes } },
    )
  }
  const head = await readHead(absolute)
  const kind = detectKind(relative, head)
  if (options.only === 'pdf' && kind !== 'pdf') {
    throw new BerthError(
      'FILE_TYPE_MISMATCH',
      `${relative} is not a PDF. Use get_text_from_local_file for other kinds of files.`,
      { details: { path: relative } },
    )
  }
  const office = OFFICE_PARTS[kind]
  if (office !== undefined) {
    const entries = await listZip(absolute, relative, limits)
    if (!entries.some((entry) => entry.name === office.part)) {
      throw new BerthError(
        'FILE_TYPE_MISMATCH',
        `${relative} is a zip archive but not ${office.name} (it has no ${office.part}). Rename it to .zip to unpack it.`,
        { details: { path: relative } },
      )
    }
  }

  const text = await readAs(kind, context, { absolute, relative, size: info.size, head, limits }, options.transcription)
  return capWithFullText(context, relative, text, limits.maxResultChars)
}

interface Input {
  absolute: string
  relative: string
  size: number
  head: Buffer
  limits: DocumentLimits
}

async function readAs(
  kind: DocumentKind,
  context: ToolContext,
  input: Input,
  transcription?: TranscriptionProvider,
): Promise<string> {
  const { absolute, relative, head, limits } = input
  switch (kind) {
    case 'pdf':
    case 'docx':
    case 'xlsx':
    case 'pptx':
    case 'csv':
    case 'html':
      return parseHeavy(kind, context, input)
    case 'text': {
      // A long text file is its own full text: show its start and point to it rather than copy it.
      if (input.size > limits.maxResultChars) return textStart(input)
      const text = await readTextFile(absolute)
      return text === '' ? `${relative} is empty.` : text
    }
    case 'zip':
      return extractZip(context, absolute, relative, limits)
    case 'image':
      return describeImage(relative, input.size, head)
    case 'audio':
      if (transcription !== undefined) {
        const words = await transcribeFile(context, transcription, input)
        return `Transcript of ${relative} (${describeAudio(sniff(head))}, ${formatBytes(input.size)}):\n\n${words === '' ? '(no speech recognized)' : words}`
      }
      return (
        `${relative} is ${describeAudio(sniff(head))} (${formatBytes(input.size)}). ` +
        'Transcribing audio needs a transcription provider, and none is configured in this berth, so its words cannot be read here. ' +
        'Tell the user, or inspect the file with bash (e.g. ffprobe) if that helps the task.'
      )
    case 'xls':
      return xlsToMarkdown(absolute, relative, context.signal)
    case 'legacy-office':
      return (
        `${relative} is an old binary Office file (.${extensionOf(relative)}), which this tool cannot read (it reads .docx and .pptx). ` +
        'Convert it in the shell if a converter is installed (e.g. `libreoffice --headless --convert-to docx`), then read the result.'
      )
  }
}

async function textStart(input: Input): Promise<string> {
  const pointer =
    `\n\n[... ${input.relative} goes on: it is ${formatBytes(input.size)} (${input.size.toLocaleString('en-US')} bytes) in all. ` +
    'Read further parts with str_replace_editor view and a view_range, or search it with bash (grep, sed -n).]'
  // Up to 4 bytes a character: enough bytes for a full page of any text.
  const head = await readTextHead(input.absolute, input.limits.maxResultChars * 4)
  const whole = input.size <= input.limits.maxResultChars * 4
  if (whole && head.length <= input.limits.maxResultChars) return head
  return head.slice(0, Math.max(0, input.limits.maxResultChars - pointer.length)) + pointer
}

/** Large files on a worker thread; small ones inline, timed so a slow one is at least seen in the log. */
async function parseHeavy(kind: HeavyKind, context: ToolContext, input: Input): Promise<string> {
  const job = { kind, file: input.absolute, shownName: input.relative, limits: input.limits }
  if (input.size >= input.limits.workerMinBytes) {
    return parseOnWorkerThread(job, { signal: context.signal, timeoutMs: input.limits.parseTimeoutMs })
  }
  const started = performance.now()
  try {
    return await parseDocument(job)
  } finally {
    const ms = performance.now() - started
    if (ms > SLOW_INLINE_MS) {
      context.logger.warn(
        { file: input.relative, kind, bytes: input.size, ms: Math.round(ms) },
        'slow inline document parse',
      )
    }
  }
}

function describeImage(relative: string, size: number, head: Buffer): string {
  const format = sniff(head)
  const { width, height, exif } = imageInfo(format, head)
  const lines = [
    `Image: ${relative}`,
    `Type: image/${format}`,
    `Size: ${formatBytes(size)} (${size} bytes)`,
    `Dimensions: ${width !== null && height !== null ? `${width} x ${height} pixels` : 'unknown'}`,
  ]
  const tags = Object.entries(exif)
  if (tags.length > 0) lines.push('EXIF:', ...tags.map(([name, value]) => `  ${name}: ${value}`))
  lines.push(
    `This tool reads no pixels. To look at the image itself, call display_image with image_path "${relative}".`,
  )
  return lines.join('\n')
}

function describeAudio(sniffed: Sniffed): string {
  const names: Partial<Record<Sniffed, string>> = {
    mp3: 'an MP3 audio file',
    wav: 'a WAV audio file',
    flac: 'a FLAC audio file',
    ogg: 'an Ogg audio file',
    mp4: 'an MP4/M4A audio file',
  }
  return names[sniffed] ?? 'an audio file'
}

async function readHead(file: string): Promise<Buffer> {
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.alloc(HEAD_BYTES)
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

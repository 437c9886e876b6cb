import { BerthError } from '../../core/errors.js'

/** What a reader does with a file. */
export type DocumentKind =
  | 'pdf'
  | 'docx'
  | 'xlsx'
  | 'xls'
  | 'csv'
  | 'pptx'
  | 'zip'
  | 'html'
  | 'text'
  | 'image'
  | 'audio'
  | 'legacy-office'

/** What the first bytes say the file is. */
export type Sniffed =
  | 'pdf'
  | 'zip'
  | 'ole'
  | 'png'
  | 'jpeg'
  | 'gif'
  | 'webp'
  | 'bmp'
  | 'tiff'
  | 'mp3'
  | 'wav'
  | 'flac'
  | 'ogg'
  | 'mp4'
  | 'text'
  | 'binary'

const IMAGE_SNIFFS: readonly Sniffed[] = ['png', 'jpeg', 'gif', 'webp', 'bmp', 'tiff']
const AUDIO_SNIFFS: readonly Sniffed[] = ['mp3', 'wav', 'flac', 'ogg', 'mp4']

const BY_EXTENSION: Record<string, DocumentKind> = {
  pdf: 'pdf',
  docx: 'docx',
  xlsx: 'xlsx',
  xlsm: 'xlsx',
  xls: 'xls',
  csv: 'csv',
  tsv: 'csv',
  pptx: 'pptx',
  zip: 'zip',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  doc: 'legacy-office',
  ppt: 'legacy-office',
  png: 'image',
  jpg: 'image',
  jpeg: 'image',
  gif: 'image',
  webp: 'image',
  bmp: 'image',
  tif: 'image',
  tiff: 'image',
  mp3: 'audio',
  wav: 'audio',
  flac: 'audio',
  ogg: 'audio',
  oga: 'audio',
  opus: 'audio',
  m4a: 'audio',
  aac: 'audio',
}

/** Human words for an error that says what a file really is. */
const SNIFF_NAMES: Record<Sniffed, string> = {
  pdf: 'a PDF document',
  zip: 'a zip archive',
  ole: 'an old binary Office file (doc/xls/ppt)',
  png: 'a PNG image',
  jpeg: 'a JPEG image',
  gif: 'a GIF image',
  webp: 'a WebP image',
  bmp: 'a BMP image',
  tiff: 'a TIFF image',
  mp3: 'an MP3 audio file',
  wav: 'a WAV audio file',
  flac: 'a FLAC audio file',
  ogg: 'an Ogg audio file',
  mp4: 'an MP4/M4A media file',
  text: 'plain text',
  binary: 'binary data of an unknown type',
}

/**
 * The type the first bytes of a file show (magic numbers), or `text` when
 * they look like text (no NUL byte, or a UTF-16 byte order mark).
 *
 * @example
 *   sniff(Buffer.from('%PDF-1.7\n...')) // 'pdf'
 */
export function sniff(head: Uint8Array): Sniffed {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength)
  const ascii = b.subarray(0, 16).toString('latin1')
  // PDF readers accept the header anywhere in the first 1024 bytes.
  if (b.subarray(0, 1024).includes('%PDF-')) return 'pdf'
  if (ascii.startsWith('PK\x03\x04') || ascii.startsWith('PK\x05\x06')) return 'zip'
  if (b.length >= 8 && b.readUInt32BE(0) === 0xd0cf11e0 && b.readUInt32BE(4) === 0xa1b11ae1) return 'ole'
  if (ascii.startsWith('\x89PNG\r\n\x1a\n')) return 'png'
  if (ascii.startsWith('\xff\xd8\xff')) return 'jpeg'
  if (ascii.startsWith('GIF87a') || ascii.startsWith('GIF89a')) return 'gif'
  if (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WEBP') return 'webp'
  if (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WAVE') return 'wav'
  if (ascii.startsWith('BM') && b.length >= 26) return 'bmp'
  if (ascii.startsWith('II*\x00') || ascii.startsWith('MM\x00*')) return 'tiff'
  if (ascii.startsWith('fLaC')) return 'flac'
  if (ascii.startsWith('OggS')) return 'ogg'
  // A UTF-16 byte order mark before MP3's frame sync: FF FE would pass for both.
  if (ascii.startsWith('\xff\xfe') || ascii.startsWith('\xfe\xff')) return 'text'
  if (ascii.startsWith('ID3') || (b.length >= 2 && b[0] === 0xff && ((b[1] as number) & 0xe0) === 0xe0)) return 'mp3'
  if (ascii.slice(4, 8) === 'ftyp') return 'mp4'
  return b.includes(0) ? 'binary' : 'text'
}

/**
 * Decide how to read a file from its extension and its first bytes together.
 * A known extension whose contents say otherwise is `FILE_TYPE_MISMATCH`
 * (a `.pdf` that is really a zip, a `.txt` that is binary); an unknown
 * extension is read as whatever the contents are. Office files are zips;
 * which kind of zip is checked later, from its entries.
 *
 * @example
 *   detectKind('report.pdf', head) // 'pdf'
 *   detectKind('notes.py', head)   // 'text'
 */
export function detectKind(fileName: string, head: Uint8Array): DocumentKind {
  const sniffed = sniff(head)
  const extension = extensionOf(fileName)
  const expected = BY_EXTENSION[extension]
  const fromContents = kindFromContents(sniffed)
  if (expected === undefined) {
    if (fromContents === null) throw mismatch(fileName, sniffed, 'a readable document')
    return fromContents
  }
  if (matches(expected, sniffed)) return expected
  throw mismatch(fileName, sniffed, `.${extension}`)
}

function matches(expected: DocumentKind, sniffed: Sniffed): boolean {
  switch (expected) {
    case 'pdf':
      return sniffed === 'pdf'
    case 'docx':
    case 'xlsx':
    case 'pptx':
    case 'zip':
      return sniffed === 'zip'
    case 'xls':
    case 'legacy-office':
      return sniffed === 'ole'
    case 'image':
      return IMAGE_SNIFFS.includes(sniffed)
    case 'audio':
      return AUDIO_SNIFFS.includes(sniffed)
    case 'csv':
    case 'html':
    case 'text':
      return sniffed === 'text'
  }
}

function kindFromContents(sniffed: Sniffed): DocumentKind | null {
  if (sniffed === 'pdf') return 'pdf'
  if (sniffed === 'zip') return 'zip'
  if (sniffed === 'text') return 'text'
  if (IMAGE_SNIFFS.includes(sniffed)) return 'image'
  if (AUDIO_SNIFFS.includes(sniffed)) return 'audio'
  return null
}

function mismatch(fileName: string, sniffed: Sniffed, claimed: string): BerthError {
  return new BerthError(
    'FILE_TYPE_MISMATCH',
    `${fileName} does not contain what its name says (${claimed}): its contents are ${SNIFF_NAMES[sniffed]}. ` +
      'Check that the file is complete and correctly named (rename it to its real type), or inspect it with bash (e.g. `file`, `head -c 200`).',
    { details: { file: fileName, contents: sniffed } },
  )
}

/** @example extensionOf('a/Report.PDF') // 'pdf' */
export function extensionOf(fileName: string): string {
  const base = fileName.split('/').at(-1) ?? ''
  const dot = base.lastIndexOf('.')
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase()
}

import { lstat } from 'node:fs/promises'
import path from 'node:path'

/** Most file systems cap one name at 255 bytes (NAME_MAX). */
const MAX_NAME_BYTES = 255
// An extension longer than this is more likely part of the name than a type.
const MAX_EXTENSION_BYTES = 32
// C0 controls (NUL included), DEL, C1 controls, and the bidirectional
// overrides that make `evil\u202Etxt.exe` display as `evilexe.txt`.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNWANTED_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' })

/**
 * Turn an uploaded file's name into one safe path segment: basename only
 * (both `/` and `\` count), control characters, NUL and bidi overrides
 * removed, leading dots replaced by `_` (no hidden files, never `.` or `..`),
 * trimmed to 255 bytes keeping the extension, `file` when nothing is left.
 * Unicode letters and emoji are kept exactly as sent (no normalisation).
 *
 * @example
 *   sanitizeFileName('../../etc/passwd') // 'passwd'
 *   sanitizeFileName('C:\\Users\\me\\.env') // '_env'
 *   sanitizeFileName('résumé 日本語 🎉.pdf') // 'résumé 日本語 🎉.pdf'
 */
export function sanitizeFileName(name: string): string {
  const segments = String(name)
    .split(/[\\/]/)
    .filter((s) => s.trim() !== '')
  const clean = (segments.at(-1) ?? '').replace(UNWANTED_CHARS, '').trim()
  if (clean === '') return 'file'
  return fitName(clean.replace(/^\.+/, '_'), MAX_NAME_BYTES)
}

/**
 * Pick a name in `dir` that is not taken yet: `a.txt`, then `a_1.txt`,
 * `a_2.txt`, ... (the reference's clash rule). Anything present counts as
 * taken, a dangling symlink included. The name is sanitised first.
 *
 * Between this check and the write another writer could take the name, so
 * create the file with the `wx` flag and call again on `EEXIST`.
 *
 * @example
 *   await freeFileName('/data/workspace/abc/uploaded_files', 'a.txt') // 'a_1.txt' if a.txt exists
 */
export async function freeFileName(dir: string, name: string): Promise<string> {
  const wanted = sanitizeFileName(name)
  if (!(await taken(path.join(dir, wanted)))) return wanted
  const { stem, ext } = splitExtension(wanted)
  for (let n = 1; n < 100_000; n++) {
    const suffix = `_${n}`
    const candidate = fitName(`${stem}${suffix}${ext}`, MAX_NAME_BYTES, suffix.length + byteLength(ext))
    if (!(await taken(path.join(dir, candidate)))) return candidate
  }
  throw new Error(`No free file name for ${wanted} in ${dir}`)
}

/** Split `a.tar.gz` into `a.tar` + `.gz`; a leading dot or a long tail is no extension. */
function splitExtension(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.')
  if (dot <= 0 || dot === name.length - 1) return { stem: name, ext: '' }
  const ext = name.slice(dot)
  if (byteLength(ext) > MAX_EXTENSION_BYTES) return { stem: name, ext: '' }
  return { stem: name.slice(0, dot), ext }
}

/**
 * Trim `name` to `maxBytes` of UTF-8, cutting whole graphemes (an emoji with
 * its modifiers stays whole) from the end of the stem. `keepTail` bytes at the
 * end (the extension, and a clash suffix) are never cut.
 */
function fitName(name: string, maxBytes: number, keepTail?: number): string {
  if (byteLength(name) <= maxBytes) return name
  const tailBytes = keepTail ?? byteLength(splitExtension(name).ext)
  const tail = sliceEndBytes(name, tailBytes)
  const head = name.slice(0, name.length - tail.length)
  let budget = maxBytes - byteLength(tail)
  let kept = ''
  for (const { segment } of segmenter.segment(head)) {
    budget -= byteLength(segment)
    if (budget < 0) break
    kept += segment
  }
  return kept === '' ? `file${tail}` : `${kept}${tail}`
}

/** The shortest end of `s` holding at least `bytes` bytes (whole code points). */
function sliceEndBytes(s: string, bytes: number): string {
  const chars = Array.from(s)
  let out = ''
  while (byteLength(out) < bytes && chars.length > 0) out = `${chars.pop()}${out}`
  return out
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

async function taken(p: string): Promise<boolean> {
  try {
    await lstat(p)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

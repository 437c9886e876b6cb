import { readFile, stat } from 'node:fs/promises'
import { BerthError } from '../../core/errors.js'

/** Lines of context shown around an edit, as in the reference editor. */
export const SNIPPET_LINES = 4

/**
 * Read a text file for the editor, refusing what it cannot safely show or
 * rewrite: folders, files over `maxBytes` (`FILE_TOO_LARGE`, naming the
 * limit), binary files (a NUL byte in the first 8 KB) and, when `forEdit`,
 * bytes that are not valid UTF-8 (writing them back would corrupt the file).
 * A UTF-8 byte order mark is kept, so it is written back too.
 *
 * @example
 *   const text = await readTextFile(abs, 'notes.md', { maxBytes: 16 * 1024 ** 2, forEdit: true })
 */
export async function readTextFile(
  absolute: string,
  shown: string,
  opts: { maxBytes: number; forEdit: boolean },
): Promise<string> {
  const info = await stat(absolute)
  if (!info.isFile()) throw toolError(`The path ${shown} is not a regular file.`)
  if (info.size > opts.maxBytes) {
    throw new BerthError(
      'FILE_TOO_LARGE',
      `The file ${shown} is ${info.size} bytes, more than the ${describeLimit(opts.maxBytes)} this tool ` +
        `${opts.forEdit ? 'edits' : 'shows'}. Use bash instead (e.g. 'grep -n pattern file', 'sed -n 100,200p file').`,
      { details: { path: shown, bytes: info.size, limitBytes: opts.maxBytes } },
    )
  }
  const bytes = await readFile(absolute)
  if (bytes.subarray(0, 8192).includes(0)) {
    throw toolError(
      `The file ${shown} looks binary (${bytes.length} bytes); use bash to inspect it (e.g. 'file', 'xxd').`,
    )
  }
  if (!opts.forEdit) return bytes.toString('utf8')
  try {
    return strictUtf8.decode(bytes)
  } catch {
    throw toolError(`The file ${shown} is not valid UTF-8 text, so this tool will not rewrite it; use bash instead.`)
  }
}

// fatal: refuse bad bytes rather than replace them; ignoreBOM: keep a BOM in the text instead of dropping it.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** A byte limit for people and for the model: `16 MiB (16777216 bytes)`. */
export function describeLimit(bytes: number): string {
  return `${bytes / (1024 * 1024)} MiB (${bytes} bytes)`
}

/**
 * The reference editor's `cat -n` rendering, so outputs read the same as in
 * recorded sessions.
 *
 * @example
 *   numbered('a\nb', 'notes.md', 2) // "Here's the result of running `cat -n` on notes.md:\n     1\ta\n     2\tb\nTotal lines in file: 2\n"
 */
export function numbered(content: string, descriptor: string, totalLines: number, firstLine = 1): string {
  const lines = content.split('\n').map((line, i) => `${String(i + firstLine).padStart(6)}\t${line}`)
  return `Here's the result of running \`cat -n\` on ${descriptor}:\n${lines.join('\n')}\nTotal lines in file: ${totalLines}\n`
}

/**
 * `numbered` for `view`: lines `first` to `last` (1-based, inclusive) of
 * `text`, rendered only as far as `maxChars` of line text allows, then a note
 * saying which lines were left out and how to reach them. Rendering stops
 * there, so viewing a 16 MiB file costs what is shown, not the whole file.
 *
 * @example
 *   numberedView(big, 'big.log', 170000, 1, 170000, 25_000) // the first ~250 lines, then the note
 */
export function numberedView(
  text: string,
  descriptor: string,
  totalLines: number,
  first: number,
  last: number,
  maxChars: number,
): string {
  const rendered: string[] = []
  let used = 0
  let from = lineStart(text, first - 1)
  let line = first
  for (; line <= last; line++) {
    const end = text.indexOf('\n', from)
    const content = text.slice(from, end === -1 ? text.length : end)
    if (used + content.length > maxChars && rendered.length > 0) break
    if (content.length > maxChars) {
      rendered.push(`${String(line).padStart(6)}\t${content.slice(0, maxChars)}`)
      rendered.push(
        `[... line ${line} goes on for ${content.length - maxChars} more characters; ` +
          "view it with bash (e.g. 'cut -c 1-2000' or 'fold -w 2000 file | sed -n 1,20p') ...]",
      )
      line++
      break
    }
    rendered.push(`${String(line).padStart(6)}\t${content}`)
    used += content.length + 8
    from = end + 1
  }
  if (line <= last) {
    rendered.push(
      `[... lines ${line} to ${last} are not shown, to save context. View them with \`view_range\` ` +
        `(e.g. [${line}, ${Math.min(last, line + 199)}]), or find the lines you need with bash ('grep -n pattern file') ...]`,
    )
  }
  return `Here's the result of running \`cat -n\` on ${descriptor}:\n${rendered.join('\n')}\nTotal lines in file: ${totalLines}\n`
}

/** Lines as `str.splitlines()` counts them (the `total_lines` of `file_edit`). @example countLines('a\nb\n') // 2 */
export function countLines(content: string): number {
  if (content === '') return 0
  const parts = content.split('\n').length
  return content.endsWith('\n') ? parts - 1 : parts
}

/**
 * Where `needle` occurs: how often (without overlaps), and the distinct
 * 1-based lines where occurrences start, at most `maxLines` of them (a
 * one-character needle in a 16 MiB file would otherwise list millions).
 *
 * @example
 *   occurrences('x\ny x', 'x') // { count: 3, lines: [1, 2], more: false }
 */
export function occurrences(
  haystack: string,
  needle: string,
  maxLines = 100,
): { count: number; lines: number[]; more: boolean } {
  const lines: number[] = []
  let more = false
  let count = 0
  let line = 1
  let scanned = 0
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) {
    count++
    if (more) continue
    for (let nl = haystack.indexOf('\n', scanned); nl !== -1 && nl < at; nl = haystack.indexOf('\n', nl + 1)) line++
    scanned = at
    if (lines.at(-1) === line) continue
    if (lines.length === maxLines) more = true
    else lines.push(line)
  }
  return { count, lines, more }
}

/** Offset where 0-based line `line` starts, or -1 when `text` has fewer lines. @example lineStart('a\nb', 1) // 2 */
export function lineStart(text: string, line: number): number {
  let at = 0
  for (let i = 0; i < line; i++) {
    const nl = text.indexOf('\n', at)
    if (nl === -1) return -1
    at = nl + 1
  }
  return at
}

/** Lines `first` to `last` (0-based, `last` excluded) of `text`, without reading the rest. @example sliceLines('a\nb\nc', 1, 3) // ['b', 'c'] */
export function sliceLines(text: string, first: number, last: number): string[] {
  const from = lineStart(text, first)
  if (last <= first || from === -1) return []
  let to = from - 1
  for (let i = first; i < last; i++) {
    to = text.indexOf('\n', to + 1)
    if (to === -1) {
      to = text.length
      break
    }
  }
  return text.slice(from, to).split('\n')
}

export function toolError(message: string): BerthError {
  return new BerthError('TOOL_FAILED', message)
}

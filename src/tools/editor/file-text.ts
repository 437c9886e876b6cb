import { readFile, stat } from 'node:fs/promises'
import { BerthError } from '../../core/errors.js'

/** Lines of context shown around an edit, as in the reference editor. */
export const SNIPPET_LINES = 4

/**
 * Read a text file for the editor, refusing what it cannot safely show or
 * rewrite: folders, files over `maxBytes`, binary files (a NUL byte in the
 * first 8 KB) and, when `forEdit`, bytes that are not valid UTF-8 (writing
 * them back would corrupt the file).
 *
 * @example
 *   const text = await readTextFile(abs, 'notes.md', { maxBytes: 2 * 1024 ** 2, forEdit: true })
 */
export async function readTextFile(
  absolute: string,
  shown: string,
  opts: { maxBytes: number; forEdit: boolean },
): Promise<string> {
  const info = await stat(absolute)
  if (!info.isFile()) throw toolError(`The path ${shown} is not a regular file.`)
  if (info.size > opts.maxBytes) {
    throw toolError(
      `The file ${shown} is ${info.size} bytes, more than the ${opts.maxBytes} bytes this tool handles. ` +
        "Use bash instead (e.g. 'grep -n pattern file', 'sed -n 100,200p file').",
    )
  }
  const bytes = await readFile(absolute)
  if (bytes.subarray(0, 8192).includes(0)) {
    throw toolError(
      `The file ${shown} looks binary (${bytes.length} bytes); use bash to inspect it (e.g. 'file', 'xxd').`,
    )
  }
  const text = bytes.toString('utf8')
  if (opts.forEdit && !Buffer.from(text, 'utf8').equals(bytes)) {
    throw toolError(`The file ${shown} is not valid UTF-8 text, so this tool will not rewrite it; use bash instead.`)
  }
  return text
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

/** Lines as `str.splitlines()` counts them (the `total_lines` of `file_edit`). @example countLines('a\nb\n') // 2 */
export function countLines(content: string): number {
  if (content === '') return 0
  const parts = content.split('\n').length
  return content.endsWith('\n') ? parts - 1 : parts
}

/** 1-based line numbers where each occurrence of `needle` starts. @example occurrenceLines('x\ny x', 'x') // [1, 2] */
export function occurrenceLines(haystack: string, needle: string): number[] {
  const lines: number[] = []
  let line = 1
  let scanned = 0
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) {
    for (let i = scanned; i < at; i++) if (haystack.charCodeAt(i) === 10) line++
    scanned = at
    lines.push(line)
  }
  return lines
}

export function toolError(message: string): BerthError {
  return new BerthError('TOOL_FAILED', message)
}

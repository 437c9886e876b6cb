/**
 * JSON as models write it: cut off by the token limit, with trailing commas.
 * Used by the JSON tool-call parser; strict `JSON.parse` first, repairs only
 * when it fails.
 */

export interface JsonSpan {
  /** Index just past the closing bracket, or `text.length` when the value never closes. */
  end: number
  complete: boolean
}

/**
 * Find where the object or array opening at `start` ends, minding strings
 * and escapes (so braces inside strings do not count).
 *
 * @example
 *   scanJson('x {"a": "}"} y', 2) // { end: 12, complete: true }
 */
export function scanJson(text: string, start: number): JsonSpan {
  let depth = 0
  let inString = false
  let escaped = false
  for (let i = start; i < text.length; i++) {
    const ch = text[i]
    if (inString) {
      if (escaped) escaped = false
      else if (ch === '\\') escaped = true
      else if (ch === '"') inString = false
      continue
    }
    if (ch === '"') inString = true
    else if (ch === '{' || ch === '[') depth++
    else if (ch === '}' || ch === ']') {
      depth--
      if (depth === 0) return { end: i + 1, complete: true }
    }
  }
  return { end: text.length, complete: false }
}

export type LenientResult = { ok: true; value: unknown; repaired: boolean } | { ok: false; error: string }

/**
 * Parse JSON, repairing what models commonly break: trailing commas, and
 * text cut off mid-value (open strings and brackets are closed, a dangling
 * key or partial literal is completed or dropped). JSON that is complete but
 * wrong (`{"a": ls}`) stays an error: guessing there would change meaning.
 *
 * @example
 *   parseLenientJson('{"a": [1, 2,], "b": {"c": "d') // { ok: true, value: { a: [1, 2], b: { c: 'd' } }, repaired: true }
 */
export function parseLenientJson(text: string): LenientResult {
  try {
    return { ok: true, value: JSON.parse(text), repaired: false }
  } catch (error) {
    try {
      return { ok: true, value: JSON.parse(repair(text)), repaired: true }
    } catch {
      return { ok: false, error: (error as Error).message }
    }
  }
}

const PARTIAL_LITERAL = /([:,[]\s*)(t|tr|tru|f|fa|fal|fals|n|nu|nul)$/
const LITERALS: Record<string, string> = { t: 'true', f: 'false', n: 'null' }

function repair(text: string): string {
  let out = ''
  const closers: string[] = []
  let inString = false
  let escaped = false
  let stringStart = -1
  let stringIsKey = false
  // Where a key that has no colon yet starts in `out` (the text ended right after it).
  let danglingKey = -1
  for (const ch of text) {
    if (inString) {
      out += ch
      if (escaped) escaped = false
      else if (ch === '\\') escaped = true
      else if (ch === '"') {
        inString = false
        if (stringIsKey) danglingKey = stringStart
      }
      continue
    }
    if (ch === '"') {
      inString = true
      stringStart = out.length
      const before = out.trimEnd().at(-1)
      stringIsKey = closers.at(-1) === '}' && (before === '{' || before === ',')
    } else if (ch === ':') danglingKey = -1
    else if (ch === '{') closers.push('}')
    else if (ch === '[') closers.push(']')
    else if (ch === '}' || ch === ']') {
      out = dropTrailingComma(out)
      closers.pop()
      danglingKey = -1
    }
    out += ch
  }
  if (inString) {
    // A cut-off key means nothing yet; a cut-off value keeps what was written.
    if (stringIsKey) out = out.slice(0, stringStart)
    else out = `${escaped ? out.slice(0, -1) : out}"`
  } else if (danglingKey !== -1) out = out.slice(0, danglingKey)
  out = out.trimEnd()
  // A key whose value never came: drop the member.
  out = out.replace(/,?\s*"(?:[^"\\]|\\.)*"\s*:$/, '')
  out = out.replace(PARTIAL_LITERAL, (_, lead: string, partial: string) => lead + LITERALS[partial[0] as string])
  out = out.replace(/([0-9])[.eE+-]+$/, '$1').replace(/([:,[]\s*)-$/, '$1')
  while (closers.length > 0) out = dropTrailingComma(out) + closers.pop()
  return dropTrailingComma(out)
}

function dropTrailingComma(text: string): string {
  return text.replace(/,\s*$/, '')
}

/**
 * Python's `float(text)`, which the official GAIA scorer uses to decide what
 * is a number. JavaScript's `Number()` differs on exactly the inputs that
 * matter for scoring (`Number('')` is 0, `Number('0x10')` is 16, `Number('1_000')`
 * is NaN, fullwidth digits are NaN), so the grammar is spelled out here.
 */

// The characters `str.isspace()` accepts, which is also what `re`'s `\s` matches on str patterns.
export const PYTHON_SPACE =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000'

const EDGE_SPACE = new RegExp(`^[${PYTHON_SPACE}]+|[${PYTHON_SPACE}]+$`, 'g')
// Digits with single underscores between them, as Python 3.6+ allows in numeric literals and float().
const DIGITS = '\\d(?:_?\\d)*'
const DECIMAL = new RegExp(`^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`)
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i
const UNICODE_DIGIT = /\p{Nd}/u

/**
 * The number Python's `float(text)` returns, or null where it raises
 * ValueError. Accepts what Python accepts: surrounding Unicode whitespace,
 * `_` between digits, `inf`/`infinity`/`nan` in any case, and decimal digits
 * of any script (`'３'`, `'٣'`).
 *
 * @example
 *   parsePythonFloat(' 1_000.5 ') // 1000.5
 *   parsePythonFloat('３')         // 3
 *   parsePythonFloat('')          // null
 *   parsePythonFloat('0x10')      // null
 */
export function parsePythonFloat(text: string): number | null {
  const ascii = toAsciiDigits(text.replace(EDGE_SPACE, ''))
  const special = SPECIAL.exec(ascii)
  if (special !== null) {
    if (special[2]?.toLowerCase() === 'nan') return Number.NaN
    return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
  }
  if (!DECIMAL.test(ascii)) return null
  return Number(ascii.replaceAll('_', ''))
}

/** True when Python's `float(text)` would succeed (the scorer's `is_float`). */
export function isPythonFloat(text: string): boolean {
  return parsePythonFloat(text) !== null
}

/** Non-ASCII decimal digits to '0'–'9', as CPython does before parsing a float. */
function toAsciiDigits(text: string): string {
  let out = ''
  for (const char of text) {
    const code = char.codePointAt(0) as number
    out += code > 0x7f && UNICODE_DIGIT.test(char) ? String(digitValue(code)) : char
  }
  return out
}

/**
 * Unicode puts every script's decimal digits in runs of ten, 0 to 9, and
 * adjacent runs (the mathematical digits) start again at 0; so a digit's
 * value is how many digits precede it in its run, modulo ten.
 */
function digitValue(code: number): number {
  let before = 0
  while (before < 100 && UNICODE_DIGIT.test(String.fromCodePoint(code - before - 1))) before++
  return before % 10
}

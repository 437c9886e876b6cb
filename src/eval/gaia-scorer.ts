import { isPythonFloat, PYTHON_SPACE, parsePythonFloat } from './python-float.js'

/**
 * The GAIA benchmark's official question scorer (`question_scorer` in the
 * leaderboard's `scorer.py`), rule for rule, so berth's accuracy is the
 * leaderboard's:
 *
 * - the true answer is a number (Python `float()` accepts it): `$`, `%` and
 *   `,` are removed from the prediction and the two compared as floats;
 * - else it contains `,` or `;`: both are split on those characters, lists of
 *   different lengths are wrong, and elements are compared one by one:
 *   numbers as above, strings lowercased with whitespace removed (punctuation
 *   kept);
 * - else both are compared lowercased with whitespace and ASCII punctuation
 *   removed.
 *
 * A missing prediction is scored as the text `None`, as Python does.
 *
 * @example
 *   scoreGaiaAnswer('$1,000', '1000')          // true
 *   scoreGaiaAnswer('3.0', '3')                // true
 *   scoreGaiaAnswer('Sea Gull', 'seagull')     // true
 *   scoreGaiaAnswer('a, b', 'a; b; c')         // false (lengths differ)
 */
export function scoreGaiaAnswer(prediction: string | null, truth: string): boolean {
  const answer = prediction ?? 'None'
  if (isPythonFloat(truth)) return normalizeNumber(answer) === parsePythonFloat(truth)
  if (truth.includes(',') || truth.includes(';')) {
    const truths = splitList(truth)
    const answers = splitList(answer)
    if (truths.length !== answers.length) return false
    return truths.every((item, i) => {
      const given = answers[i] as string
      if (isPythonFloat(item)) return normalizeNumber(given) === parsePythonFloat(item)
      return normalizeText(given, { removePunctuation: false }) === normalizeText(item, { removePunctuation: false })
    })
  }
  return normalizeText(answer) === normalizeText(truth)
}

/**
 * `normalize_number_str`: drop `$`, `%` and `,`, then Python's `float()`.
 * Text that is no number becomes infinity, as in the official scorer (which
 * only ever matches a true answer of `inf`).
 *
 * @example
 *   normalizeNumber('$1,000') // 1000
 *   normalizeNumber('12%')    // 12
 */
export function normalizeNumber(text: string): number {
  return parsePythonFloat(text.replace(/[$%,]/g, '')) ?? Number.POSITIVE_INFINITY
}

/** `split_string`: split on every `,` and `;`, keeping empty and padded items. */
export function splitList(text: string): string[] {
  return text.split(/[,;]/)
}

const SPACE = new RegExp(`[${PYTHON_SPACE}]`, 'g')
// Python's `string.punctuation`: ASCII only, so `’` or `—` stay.
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g

/**
 * `normalize_str`: remove all whitespace (`sea gull` is `seagull`), lowercase,
 * and unless told otherwise remove ASCII punctuation.
 *
 * @example
 *   normalizeText(' St. Petersburg ') // 'stpetersburg'
 */
export function normalizeText(text: string, options: { removePunctuation?: boolean } = {}): string {
  const lowered = text.replace(SPACE, '').toLowerCase()
  return options.removePunctuation === false ? lowered : lowered.replace(PUNCTUATION, '')
}

/**
 * The instructions of the GAIA paper's own system prompt, which the
 * leaderboard's answers follow: a final line `FINAL ANSWER: …` whose format
 * the scorer then normalises.
 */
export const GAIA_INSTRUCTIONS =
  'You are a general AI assistant. I will ask you a question. Report your thoughts, and finish your answer with ' +
  'the following template: FINAL ANSWER: [YOUR FINAL ANSWER]. YOUR FINAL ANSWER should be a number OR as few ' +
  'words as possible OR a comma separated list of numbers and/or strings. If you are asked for a number, ' +
  "don't use comma to write your number neither use units such as $ or percent sign unless specified otherwise. " +
  "If you are asked for a string, don't use articles, neither abbreviations (e.g. for cities), and write the " +
  'digits in plain text unless specified otherwise. If you are asked for a comma separated list, apply the above ' +
  'rules depending of whether the element to be put in the list is a number or a string.'

/**
 * The query of one GAIA task: the instructions, the question and, when the
 * task has an attachment, where it lies in the workspace.
 *
 * @example
 *   gaiaPrompt('How many rows?', 'uploaded_files/data.xlsx')
 */
export function gaiaPrompt(question: string, attachment: string | null): string {
  const parts = [GAIA_INSTRUCTIONS, '', `Question: ${question}`]
  if (attachment !== null) {
    parts.push('', `The file this question refers to is in your workspace at ${attachment}. Read it from there.`)
  }
  return parts.join('\n')
}

const MARKER = /FINAL ANSWER\s*:/gi
// Wrapping the model adds around an answer: markdown emphasis and code, the template's brackets.
const WRAPPING = /^(?:\*\*|\*|__|`+)\s*|\s*(?:\*\*|\*|__|`+)$/g

/**
 * The answer in the agent's last response: what follows the last
 * `FINAL ANSWER:` on its line (or the next non-empty line), without markdown
 * emphasis or the template's square brackets. Without the marker, the whole
 * response, trimmed; null for no response.
 *
 * @example
 *   extractFinalAnswer('The sum is 42.\nFINAL ANSWER: 42') // '42'
 *   extractFinalAnswer('**FINAL ANSWER:** [Paris]')        // 'Paris'
 */
export function extractFinalAnswer(response: string | null): string | null {
  if (response === null) return null
  let start = -1
  for (const match of response.matchAll(MARKER)) start = match.index + match[0].length
  if (start === -1) {
    const whole = response.trim()
    return whole.length === 0 ? null : whole
  }
  const line = response
    .slice(start)
    .split('\n')
    .map((text) => unwrap(text))
    .find((text) => text.length > 0)
  return line ?? ''
}

function unwrap(text: string): string {
  let current = text.trim()
  for (;;) {
    const next = current.replace(WRAPPING, '').trim()
    if (next === current) break
    current = next
  }
  if (current.startsWith('[') && current.endsWith(']')) current = current.slice(1, -1).trim()
  return current
}

import { parseLenientJson, scanJson } from '../llm/lenient-json.js'
import type { LlmProvider } from '../llm/types.js'
import { runModelStep } from './model-step.js'

/** What the reference shows until (or instead of) a summary. */
export const DEFAULT_SUMMARY = 'Task in progress'
const MAX_WORDS = 12
const MAX_CHARS = 100

const SYSTEM =
  'You name tasks. Reply with a summary of the user task in 3 to 7 words, as JSON: {"summary": "<the summary>"}. ' +
  'No other text.'

/**
 * A title of a few words for a user's first message, from the configured
 * model (the reference frontend calls `POST /api/generate-summary` to name a
 * new session). Lenient with what comes back: JSON `{summary}` or plain
 * text; empty or unusable answers give `DEFAULT_SUMMARY`. Model failures
 * throw the provider's `LlmError`.
 *
 * @example
 *   await summarizeTask(provider, 'Build me a landing page for my bakery', signal) // 'Bakery landing page'
 */
export async function summarizeTask(provider: LlmProvider, message: string, signal: AbortSignal): Promise<string> {
  const step = await runModelStep(
    provider,
    {
      system: SYSTEM,
      messages: [{ role: 'user', content: `Summarize this task in 3 to 7 words: "${message}"` }],
      tools: [],
      maxOutputTokens: 60,
      temperature: 0.3,
      signal,
    },
    () => {},
    { text: '' },
  )
  return cleanSummary(step.text)
}

/** The summary inside a model's answer, on one line and a few words long. */
export function cleanSummary(answer: string): string {
  const trimmed = answer.trim()
  const start = trimmed.indexOf('{')
  let text = trimmed
  if (start !== -1) {
    const parsed = parseLenientJson(trimmed.slice(start, scanJson(trimmed, start).end))
    const summary = parsed.ok ? (parsed.value as { summary?: unknown } | null)?.summary : undefined
    if (typeof summary === 'string') text = summary
  }
  const words = text
    .replace(/[`*#"]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .split(' ')
    .slice(0, MAX_WORDS)
    .join(' ')
    .slice(0, MAX_CHARS)
    .replace(/[.\s]+$/, '')
  return words === '' || words.startsWith('{') ? DEFAULT_SUMMARY : words
}

import type { LlmMessage, LlmToolCall } from '../../llm/types.js'

/**
 * Keeps the history sent to the model under a token budget, the way the
 * reference's context managers do: nothing happens under budget; over it,
 * only turns older than the last few are touched, and only tool outputs and
 * long tool inputs are replaced. Deterministic: the same history gives the
 * same result (and, for `file-based`, the same memory files).
 */
export interface ContextManager {
  readonly kind: ContextManagerKind
  /** Estimated tokens (see token-estimator.ts) above which old turns are trimmed. */
  readonly tokenBudget: number
  /**
   * A new array for the model; the input and its messages are not modified.
   *
   * @example
   *   const forModel = await contextManager.apply(history, sessionId)
   */
  apply(messages: readonly LlmMessage[], sessionId: string): Promise<LlmMessage[]>
}

export type ContextManagerKind = 'standard' | 'file-based'

export const DEFAULT_TOKEN_BUDGET = 120_000
/** Turns at the end of the history that are never touched. */
export const DEFAULT_KEEP_TURNS = 3

export const TRUNCATED_TOOL_OUTPUT_MSG = '[Truncated...re-run tool if you need to see output again.]'
export const TRUNCATED_TOOL_INPUT_MSG = '[Truncated...re-run tool if you need to see input/output again.]'

/**
 * Replace the named string fields of old tool calls' inputs with the
 * truncation marker when `shouldTruncate` says so. Returns the same message
 * when nothing changed.
 */
export function truncateToolInputs(
  message: Extract<LlmMessage, { role: 'assistant' }>,
  fields: Readonly<Record<string, readonly string[]>>,
  shouldTruncate: (value: string) => boolean,
): Extract<LlmMessage, { role: 'assistant' }> {
  let changed = false
  const toolCalls = message.toolCalls.map((call): LlmToolCall => {
    const names = fields[call.name]
    if (names === undefined || call.input === null || typeof call.input !== 'object') return call
    const input = call.input as Record<string, unknown>
    let copy: Record<string, unknown> | null = null
    for (const name of names) {
      const value = input[name]
      if (typeof value !== 'string' || value === TRUNCATED_TOOL_INPUT_MSG || !shouldTruncate(value)) continue
      copy ??= { ...input }
      copy[name] = TRUNCATED_TOOL_INPUT_MSG
    }
    if (copy === null) return call
    changed = true
    return { ...call, input: copy }
  })
  return changed ? { ...message, toolCalls } : message
}

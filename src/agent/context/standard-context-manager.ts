import type { LlmMessage } from '../../llm/types.js'
import {
  type ContextManager,
  DEFAULT_KEEP_TURNS,
  DEFAULT_TOKEN_BUDGET,
  TRUNCATED_TOOL_INPUT_MSG,
  TRUNCATED_TOOL_OUTPUT_MSG,
  truncateToolInputs,
} from './context-manager.js'
import { estimateHistoryTokens } from './token-estimator.js'
import { turnIndexes } from './turns.js'

/** Tool inputs the standard manager drops from old turns (as the reference's `standard.py`). */
export const STANDARD_INPUT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  sequential_thinking: ['thought'],
  str_replace_editor: ['file_text', 'old_str', 'new_str'],
}

export interface StandardContextManagerOptions {
  tokenBudget?: number
  keepTurns?: number
}

/**
 * The `standard` context manager: over budget, every tool output in turns
 * older than the last `keepTurns` becomes `[Truncated...re-run tool ...]`,
 * and long thoughts and editor texts in old tool calls become
 * `[Truncated...re-run tool if you need to see input/output again.]`. What is
 * dropped is gone for the model (the event log still has it).
 *
 * @example
 *   const manager = createStandardContextManager({ tokenBudget: 120_000 })
 *   const forModel = await manager.apply(history, sessionId)
 */
export function createStandardContextManager(options: StandardContextManagerOptions = {}): ContextManager {
  const tokenBudget = options.tokenBudget ?? DEFAULT_TOKEN_BUDGET
  const keepTurns = Math.max(1, options.keepTurns ?? DEFAULT_KEEP_TURNS)
  return {
    kind: 'standard',
    tokenBudget,
    async apply(messages) {
      if (estimateHistoryTokens(messages) <= tokenBudget) return [...messages]
      const { turnOf, count } = turnIndexes(messages)
      const cut = count - keepTurns
      return messages.map((message, i): LlmMessage => {
        if ((turnOf[i] ?? 0) >= cut) return message
        if (message.role === 'tool') {
          return message.content.length > TRUNCATED_TOOL_OUTPUT_MSG.length
            ? { ...message, content: TRUNCATED_TOOL_OUTPUT_MSG }
            : message
        }
        if (message.role === 'assistant') {
          return truncateToolInputs(message, STANDARD_INPUT_FIELDS, (v) => v.length > TRUNCATED_TOOL_INPUT_MSG.length)
        }
        return message
      })
    },
  }
}

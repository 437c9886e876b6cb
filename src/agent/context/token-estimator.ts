import type { LlmMessage } from '../../llm/types.js'

/**
 * Token counts for context budgeting, estimated rather than tokenized: one
 * token per 4 characters (UTF-16 code units), rounded up. That is close for
 * English text and code with the common BPE tokenizers, needs no model-
 * specific vocabulary, and is deterministic, which matters more here than
 * precision: the budget (120k by default) leaves a wide margin below real
 * context windows. Images count 1000 tokens each, as in the reference.
 */
export const CHARS_PER_TOKEN = 4
export const IMAGE_TOKENS = 1000

/** @example estimateTokens('abcdefgh') // 2 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN)
}

/**
 * A message's estimated tokens: user text plus images, assistant text plus
 * each tool call's JSON input, a tool result's content plus its images.
 *
 * @example
 *   estimateMessageTokens({ role: 'tool', toolCallId: 'c1', toolName: 'bash', content: 'x'.repeat(400) }) // 100
 */
export function estimateMessageTokens(message: LlmMessage): number {
  switch (message.role) {
    case 'user':
      return estimateTokens(message.content) + (message.images?.length ?? 0) * IMAGE_TOKENS
    case 'assistant':
      return (
        estimateTokens(message.text) +
        message.toolCalls.reduce(
          (sum, call) => sum + estimateTokens(call.name) + estimateTokens(inputText(call.input)),
          0,
        )
      )
    case 'tool':
      return estimateTokens(message.content) + (message.images?.length ?? 0) * IMAGE_TOKENS
  }
}

/** @example estimateHistoryTokens(messages) > budget */
export function estimateHistoryTokens(messages: readonly LlmMessage[]): number {
  return messages.reduce((sum, message) => sum + estimateMessageTokens(message), 0)
}

function inputText(input: unknown): string {
  if (typeof input === 'string') return input
  try {
    return JSON.stringify(input) ?? ''
  } catch {
    return ''
  }
}

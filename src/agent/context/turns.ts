import type { LlmMessage } from '../../llm/types.js'

/**
 * Group a history into turns as the reference counts them: each user
 * message is a turn, each assistant message is a turn, and the tool results
 * that answer one assistant message together form one turn. Returns, for
 * each message, the index of its turn, and the number of turns.
 *
 * @example
 *   turnIndexes([user, assistant, tool, tool, assistant]) // { turnOf: [0, 1, 2, 2, 3], count: 4 }
 */
export function turnIndexes(messages: readonly LlmMessage[]): { turnOf: number[]; count: number } {
  const turnOf: number[] = []
  let turn = -1
  let previous: LlmMessage['role'] | null = null
  for (const message of messages) {
    if (!(message.role === 'tool' && previous === 'tool')) turn++
    turnOf.push(turn)
    previous = message.role
  }
  return { turnOf, count: turn + 1 }
}

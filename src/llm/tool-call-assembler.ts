import { randomUUID } from 'node:crypto'
import type { LlmToolCall } from './types.js'

interface Pending {
  id: string | undefined
  name: string
  json: string
}

/**
 * Collects tool calls that arrive in fragments (OpenAI `tool_calls[i]`
 * deltas, Anthropic `input_json_delta`) and hands them out whole, with the
 * JSON parsed. Unparsable input is kept as raw text with `inputError` set, so
 * the agent can tell the model what went wrong instead of crashing.
 *
 * @example
 *   const calls = new ToolCallAssembler()
 *   calls.start(0, 'call_1', 'bash'); calls.append(0, '{"command":'); calls.append(0, '"ls"}')
 *   calls.finish() // [{ id: 'call_1', name: 'bash', input: { command: 'ls' } }]
 */
export class ToolCallAssembler {
  readonly #pending = new Map<number, Pending>()

  get size(): number {
    return this.#pending.size
  }

  /** Begin (or add to the id and name of) the call at `key`. */
  start(key: number, id: string | undefined, name: string | undefined): void {
    const pending = this.#pending.get(key)
    if (pending === undefined) {
      this.#pending.set(key, { id: id || undefined, name: name ?? '', json: '' })
      return
    }
    if (id && !pending.id) pending.id = id
    // Some servers repeat the name on every fragment; others split it.
    if (name && pending.name !== name) pending.name = pending.name.length === 0 ? name : pending.name + name
  }

  append(key: number, fragment: string): void {
    const pending = this.#pending.get(key)
    if (pending === undefined) this.#pending.set(key, { id: undefined, name: '', json: fragment })
    else pending.json += fragment
  }

  /** Every collected call, in the order of their keys; the assembler is empty afterwards. */
  finish(): LlmToolCall[] {
    const calls = [...this.#pending.entries()].sort(([a], [b]) => a - b).map(([, pending]) => complete(pending))
    this.#pending.clear()
    return calls
  }
}

export function parseToolInput(json: string): { input: unknown; inputError?: string } {
  if (json.trim().length === 0) return { input: {} }
  try {
    return { input: JSON.parse(json) }
  } catch (error) {
    return { input: json, inputError: `The tool arguments are not valid JSON: ${(error as Error).message}` }
  }
}

function complete(pending: Pending): LlmToolCall {
  const id = pending.id ?? `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`
  return { id, name: pending.name, ...parseToolInput(pending.json) }
}

import { randomUUID } from 'node:crypto'
import { parseJsonToolCalls } from './json-tool-calls.js'
import { jsonToolSystemPrompt, replayAsText } from './json-tool-prompt.js'
import type { LlmProvider, LlmRequest, LlmStreamPart } from './types.js'

// Where a tool call may begin. Text before the first of these streams at once; from there on it is
// held until the answer ends, then parsed, and whatever is not a call is still passed on.
const MARKERS = ['```', '<tool_call>', '{']

/**
 * JSON tool-call mode around any provider, for models without native tool
 * calling: tools go into the system prompt, history is replayed as text, and
 * calls are parsed out of the answer (`parseJsonToolCalls`). The caller sees
 * the same parts as in native mode.
 *
 * @example
 *   const llm = new JsonToolCallProvider(new OpenAiCompatibleProvider({ ... }))
 */
export class JsonToolCallProvider implements LlmProvider {
  readonly #inner: LlmProvider

  constructor(inner: LlmProvider) {
    this.#inner = inner
  }

  get provider(): string {
    return this.#inner.provider
  }

  get model(): string {
    return this.#inner.model
  }

  async *stream(request: LlmRequest): AsyncGenerator<LlmStreamPart> {
    const inner = this.#inner.stream({
      ...request,
      system: jsonToolSystemPrompt(request.system, request.tools),
      messages: replayAsText(request.messages),
      tools: [],
    })
    const toolNames = request.tools.map((tool) => tool.name)
    const holdBack = new HoldBack()
    let streamed = false
    for await (const part of inner) {
      if (part.type === 'text-delta') {
        const safe = holdBack.push(part.text)
        if (safe.length > 0) {
          streamed = true
          yield { type: 'text-delta', text: safe }
        }
        continue
      }
      if (part.type !== 'finish') {
        yield part
        continue
      }
      const held = holdBack.flush()
      const { text, calls } = parseJsonToolCalls(held, { toolNames })
      if (calls.length === 0 && held.length > 0) yield { type: 'text-delta', text: held }
      else if (text.length > 0) yield { type: 'text-delta', text: streamed ? `\n\n${text}` : text }
      for (const call of calls) {
        yield {
          type: 'tool-call',
          call: {
            id: call.id ?? `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
            name: call.name,
            input: call.input,
            ...(call.inputError === undefined ? {} : { inputError: call.inputError }),
          },
        }
      }
      yield calls.length > 0 ? { ...part, finishReason: 'tool-calls' } : part
    }
  }
}

/** Passes text through until a possible tool call starts, then keeps the rest. */
class HoldBack {
  #held = ''
  #holding = false

  push(text: string): string {
    if (this.#holding) {
      this.#held += text
      return ''
    }
    const buffer = this.#held + text
    const start = firstMarker(buffer)
    if (start !== -1) {
      this.#holding = true
      this.#held = buffer.slice(start)
      return buffer.slice(0, start)
    }
    // Keep a tail that could be the beginning of a marker split across chunks ("`", "``", "<tool").
    const keep = partialMarkerLength(buffer)
    this.#held = buffer.slice(buffer.length - keep)
    return buffer.slice(0, buffer.length - keep)
  }

  flush(): string {
    const rest = this.#held
    this.#held = ''
    this.#holding = false
    return rest
  }
}

function firstMarker(text: string): number {
  let first = -1
  for (const marker of MARKERS) {
    const index = text.indexOf(marker)
    if (index !== -1 && (first === -1 || index < first)) first = index
  }
  return first
}

function partialMarkerLength(text: string): number {
  let longest = 0
  for (const marker of MARKERS) {
    for (let length = Math.min(marker.length - 1, text.length); length > longest; length--) {
      if (text.endsWith(marker.slice(0, length))) {
        longest = length
        break
      }
    }
  }
  return longest
}

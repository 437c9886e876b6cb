/**
 * berth's own contract with language models. Providers (OpenAI-compatible,
 * Anthropic) translate their SDKs into these types; the agent never imports
 * an SDK.
 */

export interface LlmToolSpec {
  name: string
  description: string
  /** JSON Schema of the input object. */
  inputSchema: Record<string, unknown>
}

export interface LlmToolCall {
  id: string
  name: string
  /** The parsed arguments; when the model sent unparsable JSON, `inputError` says why and `input` is the raw text. */
  input: unknown
  inputError?: string
}

export interface LlmImage {
  mediaType: string
  base64: string
}

export type LlmMessage =
  | { role: 'user'; content: string; images?: LlmImage[] }
  | { role: 'assistant'; text: string; toolCalls: LlmToolCall[] }
  | {
      role: 'tool'
      toolCallId: string
      toolName: string
      content: string
      isError?: boolean
      /** Images the tool returned (e.g. `display_image`); each provider sends them where its API allows. */
      images?: LlmImage[]
    }

export interface LlmRequest {
  system: string
  messages: LlmMessage[]
  tools: LlmToolSpec[]
  maxOutputTokens?: number
  temperature?: number
  /** Aborting it aborts the HTTP request and ends the stream with an `LlmError` of kind `aborted`. */
  signal: AbortSignal
}

export interface LlmUsage {
  inputTokens: number
  outputTokens: number
}

export type LlmStreamPart =
  | { type: 'text-delta'; text: string }
  | { type: 'reasoning-delta'; text: string }
  | { type: 'tool-call'; call: LlmToolCall }
  | {
      type: 'finish'
      finishReason: 'stop' | 'tool-calls' | 'length' | 'content-filter' | 'other'
      usage: LlmUsage
      /** The model that actually answered (after fallbacks). */
      model: string
      provider: string
    }

/**
 * One configured model. `stream` yields text and reasoning deltas as they
 * arrive, complete tool calls, then exactly one `finish`; it throws an
 * `LlmError` on failure.
 */
export interface LlmProvider {
  readonly provider: string
  readonly model: string
  stream(request: LlmRequest): AsyncIterable<LlmStreamPart>
}

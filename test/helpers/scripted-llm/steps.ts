/**
 * One scripted answer of a scripted LLM server. Fields combine: `{ text,
 * toolCalls }` streams text then calls; `{ delayMs, status: 500 }` waits,
 * then fails; `{ text, hang: true }` streams text, then never finishes.
 */
export interface ScriptedStep {
  /** Only a request for this model takes this step; requests for other models skip it. */
  model?: string
  /** Wait this long before answering. */
  delayMs?: number
  /** Streamed in chunks of `chunkSize` characters. */
  text?: string
  /** Text exactly as a JSON-mode model would print it (tool calls as JSON); streamed like `text`. */
  rawText?: string
  /** Streamed as `reasoning_content` (OpenAI-compatible) or a thinking block (Anthropic) before the text. */
  reasoning?: string
  /** Native tool calls; `arguments` as an object, or a string sent verbatim (e.g. malformed JSON). */
  toolCalls?: ScriptedToolCall[]
  /** Characters per streamed chunk (default 6). */
  chunkSize?: number
  /** Pause between chunks (default 0). */
  chunkDelayMs?: number
  /** Override the finish reason (`stop`, `length`; `end_turn`, `max_tokens` for Anthropic). */
  finishReason?: string
  usage?: { input: number; output: number }
  /** Answer with this HTTP error status instead. */
  status?: number
  /** Retry-After header, in seconds (fractions allowed), with `status`. */
  retryAfter?: number
  /** Error message with `status` or `streamError`. */
  errorMessage?: string
  /** Send an error event inside the stream after the text (Chutes does this when its backends are exhausted). */
  streamError?: boolean
  /** Never finish: wait until the client disconnects (after streaming `text`, if any). */
  hang?: boolean
  /** Drop the connection (after streaming `text`, if any). */
  disconnect?: boolean
}

export interface ScriptedToolCall {
  id?: string
  name: string
  arguments: unknown
}

/** A request the server received, for assertions (e.g. that the history was sent). */
export interface ScriptedRequest {
  path: string
  headers: Record<string, string | string[] | undefined>
  /** The parsed JSON body. */
  body: Record<string, unknown>
  model: string | undefined
  stream: boolean
}

/** Splits text into the chunks a streaming server would send. */
export function chunksOf(text: string, size = 6): string[] {
  const chunks: string[] = []
  for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size))
  return chunks
}

/** The text a step streams: `rawText` wins over `text`. */
export function stepText(step: ScriptedStep): string {
  return step.rawText ?? step.text ?? ''
}

/** Tool call arguments as the wire carries them: JSON text. */
export function argumentsJson(call: ScriptedToolCall): string {
  return typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {})
}

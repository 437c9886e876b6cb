/**
 * The event types berth stores and sends, with the reference system's
 * content shapes (ii-agent-interfaces.md §2, §3) so old clients render them.
 * Every stored event is `{ "type": <type>, "content": <content> }`.
 */
export interface EventContents {
  user_message: { text: string; files?: string[] }
  /** The model's reasoning for one step; live viewers also get it streamed as `agent_thinking_delta`. */
  agent_thinking: { text: string }
  tool_call: { tool_call_id: string; tool_name: string; tool_input: unknown }
  /** `images`: files in the workspace a tool returned for the model to see (paths, never bytes). */
  tool_result: {
    tool_call_id: string
    tool_name: string
    result: unknown
    is_error?: boolean
    images?: { path: string; media_type: string }[]
  }
  /** The whole new file, as the reference sends it. */
  file_edit: { path: string; content: string; total_lines: number }
  /** The run's answer: the text of the model's last step, or what `complete` was given. */
  agent_response: { text: string }
  /**
   * Text the model wrote beside tool calls, on its way to the answer. Its own
   * type because the reference frontend ends a run at any `agent_response` (the
   * reference never sent this text at all, so old clients skip it).
   */
  agent_message: { text: string }
  /** Upstream ii-agent's name for a run stopped by cancel, shutdown or a crash. */
  agent_response_interrupted: { text: string; reason: 'cancelled' | 'shutdown' | 'crashed' }
  system: { message: string }
  error: { message: string; error_code: string }
  /**
   * The user edited their last query (`edit_query`): the last `user_message`
   * and everything after it leave the model's history. Nothing is deleted from
   * the log, so replay still shows what happened.
   */
  query_edited: { text: string }
  /** End of a run, whatever its outcome. */
  stream_complete: { status: 'completed' | 'failed' | 'interrupted'; turns?: number; usage?: TokenUsage }
}

export type StoredEventType = keyof EventContents

export interface TokenUsage {
  input_tokens: number
  output_tokens: number
}

/**
 * Sent to live viewers only, never stored: streamed tokens (the stored
 * `agent_thinking` / `agent_response` event carries the final text), and the
 * end of a run that could not be stored.
 */
export interface TransientContents {
  agent_thinking_delta: { text: string }
  agent_response_delta: { text: string }
  /** A chunk of a running shell command's output. */
  tool_output_delta: { tool_call_id: string; text: string }
  /**
   * The run could not store its events (the disk is full, say) and stopped.
   * The reference's `error` frame, so an old client shows it and stops
   * waiting; `stored: false` because the log does not have it (no id, no seq).
   */
  error: { message: string; error_code: string; stored: false }
  /** The end of a run whose end could not be stored; followed by nothing more from this run. */
  stream_complete: EventContents['stream_complete'] & { stored: false }
}

export type TransientEventType = keyof TransientContents

/** A live-only event, typed by its content (a union over the types, so `type` narrows `content`). */
export type TransientEvent<T extends TransientEventType = TransientEventType> = {
  [K in T]: { type: K; content: TransientContents[K] }
}[T]

/** A new stored event of a known type, typed by its content. */
export type AgentEvent<T extends StoredEventType = StoredEventType> = {
  [K in T]: { type: K; content: EventContents[K] }
}[T]

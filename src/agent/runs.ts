import type { TransientEvent } from '../core/events.js'
import type { ToolsetName } from '../tools/toolset.js'

/** What starts a run: one user query in a session (WebSocket `query`, `berth run`, the eval runner). */
export interface StartRunInput {
  sessionId: string
  text: string
  /** Workspace-relative paths of uploaded files the query refers to (`uploaded_files/a.pdf`). */
  files?: string[]
  /** The model id the client asked for (`model_id`), resolved by the LLM layer; default from config. */
  modelId?: string
  /** The reference's provider flags (`use_chutes`, `use_openrouter`, …) when a client sends them. */
  providerHint?: string
  /** Public base URL for links the agent hands out (static_deploy), e.g. from the request's host. */
  publicUrl?: string
  maxTurns?: number
  /** Device that owns the session when the run has to create it (`cli` for `berth run`). */
  deviceId?: string
  /** Which tools the run gets (src/tools/toolset.ts); default `default`. The GAIA runner asks for `gaia`. */
  toolset?: ToolsetName
}

export interface RunOutcome {
  status: 'completed' | 'failed' | 'interrupted'
  /** The final answer (last `agent_response` text), if any. */
  answer: string | null
  turns: number
  usage: { inputTokens: number; outputTokens: number }
  error?: { code: string; message: string }
}

/**
 * Owns the runs of every session in this process. Runs outlive the client
 * that started them; everything they produce goes to the event log first.
 *
 * @example
 *   await runs.start({ sessionId, text: 'Build a site' }) // resolves once user_message is stored
 *   const outcome = await runs.wait(sessionId)
 */
export interface RunManager {
  /** Store the `user_message` and start the run in the background. BerthError `QUERY_IN_PROGRESS` if one is active. */
  start(input: StartRunInput): Promise<void>
  /** Resolves with the outcome of the session's current run (immediately null if none). */
  wait(sessionId: string): Promise<RunOutcome | null>
  /** Stop the session's run within a second, recording `agent_response_interrupted`. False when nothing runs. */
  cancel(sessionId: string): Promise<boolean>
  isRunning(sessionId: string): boolean
  /** Live-only events (streamed tokens, shell output) of a session; returns an unsubscribe function. */
  onTransient(sessionId: string, listener: (event: TransientEvent) => void): () => void
  /** At start: sessions left `running` by a process that died get an interrupt event and status `interrupted`. */
  recoverInterrupted(): Promise<number>
  /** Interrupt every run (recorded as `shutdown`), wait for them to settle, release session resources. */
  shutdown(): Promise<void>
}

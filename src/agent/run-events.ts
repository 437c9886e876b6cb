import type { AgentEvent, TransientEvent } from '../core/events.js'
import type { Logger } from '../logging/logger.js'
import type { Store } from '../store/store.js'
import { describeError, type LoopEnd, type RunProgress } from './agent-loop.js'
import type { HistoryBuilder } from './history.js'

/**
 * Where one run's events go: the store first (durable, then published to
 * followers by the store), then the run's history. Once the run is aborted
 * the sink stores nothing more: the run manager records the interrupt, and
 * whatever a stopping tool still produces must not land after it.
 *
 * @example
 *   const sink = new RunEventSink(store, sessionId, history, controller.signal, logger)
 *   await sink.append({ type: 'tool_call', content: { tool_call_id, tool_name, tool_input } })
 */
export class RunEventSink {
  /** Events stored by this run (not counting those the manager adds when it ends). */
  stored = 0

  constructor(
    private readonly store: Store,
    readonly sessionId: string,
    private readonly history: HistoryBuilder,
    private readonly signal: AbortSignal,
    private readonly logger: Logger,
    /** The run lease's epoch: the store refuses the events once another owner took the session. */
    private readonly epoch?: number,
  ) {}

  /**
   * Store events in one transaction, in order; false when they were dropped
   * because the run was stopped. A store failure (DISK_FULL) is thrown: the
   * events were neither stored nor published, the run ends failed, and if its
   * end cannot be stored either the manager tells live viewers (`unstoredEnd`).
   */
  async append(...events: AgentEvent[]): Promise<boolean> {
    if (events.length === 0) return true
    if (this.signal.aborted) {
      this.logger.debug({ types: events.map((e) => e.type) }, 'run stopped; events not stored')
      return false
    }
    await this.store.appendMany(this.sessionId, events, this.epoch === undefined ? {} : { epoch: this.epoch })
    this.stored += events.length
    for (const event of events) this.history.add(event.type, event.content)
    return true
  }
}

/**
 * What live viewers get when a run's end could not be stored: why, as the
 * reference's `error` frame (old clients show it and stop waiting), then the
 * run's `stream_complete`. Both carry `stored: false` and no id or seq, since
 * nothing in the log backs them; without them a viewer would wait for an end
 * that never comes. A failure of the run itself (a model error) that could
 * not be stored either comes first.
 *
 * @example
 *   for (const event of unstoredEnd(end, progress, error)) fanOut.publish(sessionId, event)
 */
export function unstoredEnd(end: LoopEnd, progress: RunProgress, storeError: unknown): TransientEvent[] {
  const failure = describeError(storeError)
  const events: TransientEvent[] = []
  if (end.status === 'failed' && end.error.code !== failure.code) {
    events.push({ type: 'error', content: { message: end.error.message, error_code: end.error.code, stored: false } })
  }
  events.push(
    {
      type: 'error',
      content: {
        message: `The run stopped and its end could not be saved: ${failure.message}`,
        error_code: failure.code,
        stored: false,
      },
    },
    {
      type: 'stream_complete',
      content: {
        status: end.status,
        turns: progress.turns,
        usage: { input_tokens: progress.usage.inputTokens, output_tokens: progress.usage.outputTokens },
        stored: false,
      },
    },
  )
  return events
}

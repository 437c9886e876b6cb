import type { AgentEvent } from '../core/events.js'
import type { Logger } from '../logging/logger.js'
import type { Store } from '../store/store.js'
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
  ) {}

  /** Store events in one transaction, in order; false when they were dropped because the run was stopped. */
  async append(...events: AgentEvent[]): Promise<boolean> {
    if (events.length === 0) return true
    if (this.signal.aborted) {
      this.logger.debug({ types: events.map((e) => e.type) }, 'run stopped; events not stored')
      return false
    }
    await this.store.appendMany(this.sessionId, events)
    this.stored += events.length
    for (const event of events) this.history.add(event.type, event.content)
    return true
  }
}

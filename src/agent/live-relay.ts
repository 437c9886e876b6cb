import type { TransientEvent } from '../core/events.js'

/** How often a running session's streamed deltas go to the other instances. */
const RELAY_INTERVAL_MS = 50

/**
 * Streamed tokens and shell output for viewers on other instances: a run's
 * live-only events are gathered per session and sent every 50 ms, with
 * consecutive deltas of one kind merged into one, so a fast model costs a
 * notification per session per interval rather than one per token. Only
 * deltas travel; the stored events (the whole message) reach other instances
 * through the event log, never a second time here.
 *
 * @example
 *   const relay = new LiveRelay((sessionId, events) => store.broadcastLive(sessionId, events))
 *   relay.push(sessionId, { type: 'agent_response_delta', content: { text: 'Hel' } })
 */
export class LiveRelay {
  private readonly pending = new Map<string, TransientEvent[]>()
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly send: (sessionId: string, events: readonly TransientEvent[]) => void,
    private readonly intervalMs = RELAY_INTERVAL_MS,
  ) {}

  push(sessionId: string, event: TransientEvent): void {
    let queue = this.pending.get(sessionId)
    if (queue === undefined) {
      queue = []
      this.pending.set(sessionId, queue)
    }
    const last = queue.at(-1)
    if (last !== undefined && mergeable(last, event)) {
      ;(last.content as { text: string }).text += (event.content as { text: string }).text
    } else {
      queue.push(structuredClone(event))
    }
    if (this.timer === null) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs)
      // Live tokens never keep a stopping process alive.
      this.timer.unref()
    }
  }

  /** Send what is gathered now (a run's end, a shutdown). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    const batches = [...this.pending]
    this.pending.clear()
    for (const [sessionId, events] of batches) this.send(sessionId, events)
  }
}

function mergeable(a: TransientEvent, b: TransientEvent): boolean {
  if (a.type !== b.type) return false
  if (a.type === 'agent_response_delta' || a.type === 'agent_thinking_delta') return true
  return (
    a.type === 'tool_output_delta' && a.content.tool_call_id === (b.content as { tool_call_id: string }).tool_call_id
  )
}

import type { TransientEvent } from '../core/events.js'
import type { Logger } from '../logging/logger.js'
import { createSessionResources, type DisposableSessionResources } from '../tools/session-resources.js'

interface Slot {
  resources: DisposableSessionResources
  idleTimer: NodeJS.Timeout | null
}

/**
 * Per-session things that live between runs: the tools' resources (the
 * persistent shell), released once the session has been idle for a while or
 * when the process stops.
 *
 * @example
 *   const slots = new SessionSlots(logger, 15 * 60_000)
 *   const resources = slots.acquire(sessionId)  // keeps it alive
 *   slots.idle(sessionId)                       // released after the idle time unless acquired again
 */
export class SessionSlots {
  private readonly slots = new Map<string, Slot>()
  private stopped = false

  constructor(
    private readonly logger: Logger,
    private readonly idleMs: number,
  ) {}

  /** The session's resources, created on first use; cancels a pending idle release. */
  acquire(sessionId: string): DisposableSessionResources {
    let slot = this.slots.get(sessionId)
    if (slot === undefined) {
      slot = { resources: createSessionResources(), idleTimer: null }
      this.slots.set(sessionId, slot)
    }
    if (slot.idleTimer !== null) clearTimeout(slot.idleTimer)
    slot.idleTimer = null
    return slot.resources
  }

  /** Release the session's resources after the idle time, unless `acquire` comes first. */
  idle(sessionId: string, stillBusy: () => boolean): void {
    const slot = this.slots.get(sessionId)
    if (slot === undefined || this.stopped) return
    if (slot.idleTimer !== null) clearTimeout(slot.idleTimer)
    slot.idleTimer = setTimeout(() => {
      if (!stillBusy()) void this.release(sessionId)
    }, this.idleMs)
    slot.idleTimer.unref()
  }

  async release(sessionId: string): Promise<void> {
    const slot = this.slots.get(sessionId)
    if (slot === undefined) return
    this.slots.delete(sessionId)
    if (slot.idleTimer !== null) clearTimeout(slot.idleTimer)
    try {
      await slot.resources.dispose()
    } catch (error) {
      this.logger.warn({ err: error, session: sessionId }, 'session resources failed to close')
    }
  }

  /** Release everything and schedule nothing more (shutdown). */
  async releaseAll(): Promise<void> {
    this.stopped = true
    await Promise.all([...this.slots.keys()].map((sessionId) => this.release(sessionId)))
  }
}

/**
 * Live-only events of each session (streamed tokens, shell output, and the
 * end of a run that could not be stored) to whoever listens; a failing
 * listener is logged and the others still get it.
 *
 * @example
 *   const stop = fanOut.listen(sessionId, (event) => socket.send(JSON.stringify(event)))
 */
export class TransientFanOut {
  private readonly listeners = new Map<string, Set<(event: TransientEvent) => void>>()

  constructor(private readonly logger: Logger) {}

  listen(sessionId: string, listener: (event: TransientEvent) => void): () => void {
    let set = this.listeners.get(sessionId)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(sessionId, set)
    }
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0 && this.listeners.get(sessionId) === set) this.listeners.delete(sessionId)
    }
  }

  publish(sessionId: string, event: TransientEvent): void {
    const set = this.listeners.get(sessionId)
    if (set === undefined) return
    for (const listener of set) {
      try {
        listener(event)
      } catch (error) {
        this.logger.warn({ err: error, session: sessionId }, 'a live listener failed')
      }
    }
  }
}

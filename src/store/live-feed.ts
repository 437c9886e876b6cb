import type { EventListener, StoredEvent, Subscription } from './types.js'

/** Reads stored events of a session with `seq > after`, in order, at most `limit`. */
export type PageReader = (sessionId: string, after: number, limit: number) => StoredEvent[] | Promise<StoredEvent[]>

const CATCH_UP_PAGE = 500

/**
 * In-process fan-out of committed events to followers of a session.
 *
 * `publish` is called by the store right after a commit, so a follower never
 * sees an event that is not durable. `follow` replays what is stored after a
 * cursor and then switches to live delivery without a gap or a duplicate: it
 * listens before it reads, buffers what commits meanwhile, and drops anything
 * at or below the last `seq` it delivered.
 */
export class LiveFeed {
  private readonly listeners = new Map<string, Set<(event: StoredEvent) => void>>()

  constructor(
    private readonly readPage: PageReader,
    private readonly reportListenerError: (error: unknown) => void,
  ) {}

  publish(events: readonly StoredEvent[]): void {
    for (const event of events) {
      const set = this.listeners.get(event.sessionId)
      if (!set) continue
      for (const listener of set) listener(event)
    }
  }

  follow(sessionId: string, after: number, onEvent: EventListener, onError?: (error: unknown) => void): Subscription {
    let last = after
    let live = false
    let closed = false
    const buffer: StoredEvent[] = []

    const deliver = (event: StoredEvent): void => {
      if (closed || event.seq <= last) return
      last = event.seq
      try {
        onEvent(event)
      } catch (error) {
        this.reportListenerError(error)
      }
    }
    const listener = (event: StoredEvent): void => {
      if (live) deliver(event)
      else buffer.push(event)
    }

    let set = this.listeners.get(sessionId)
    if (!set) {
      set = new Set()
      this.listeners.set(sessionId, set)
    }
    set.add(listener)

    const close = (): void => {
      if (closed) return
      closed = true
      const current = this.listeners.get(sessionId)
      current?.delete(listener)
      if (current?.size === 0) this.listeners.delete(sessionId)
    }

    // The listener is registered before the first read, so whatever commits
    // while the backlog is read (the reads may be asynchronous) is buffered,
    // then delivered in order after it; `deliver` drops what a read already gave.
    const catchUp = async (): Promise<void> => {
      try {
        for (let pages = 0; !closed; pages++) {
          const page = await this.readPage(sessionId, last, CATCH_UP_PAGE)
          for (const event of page) deliver(event)
          if (page.length < CATCH_UP_PAGE) {
            live = true
            for (const event of buffer.splice(0).sort((a, b) => a.seq - b.seq)) deliver(event)
            return
          }
          // A long backlog: let other work run between chunks of pages.
          if (pages % 8 === 7) await new Promise((resolve) => setImmediate(resolve))
        }
      } catch (error) {
        close()
        if (onError) onError(error)
        else this.reportListenerError(error)
      }
    }
    setImmediate(() => void catchUp())
    return { close }
  }

  followerCount(sessionId: string): number {
    return this.listeners.get(sessionId)?.size ?? 0
  }
}

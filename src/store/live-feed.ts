import type { EventListener, StoredEvent, Subscription } from './types.js'

/** Reads stored events of a session with `seq > after`, in order, at most `limit`. Synchronous on purpose: see `follow`. */
export type PageReader = (sessionId: string, after: number, limit: number) => StoredEvent[]

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

    const catchUp = (): void => {
      if (closed) return
      try {
        // Pages are read synchronously: no commit can land between reading the
        // last page and going live, so nothing slips between the two.
        for (let pages = 0; pages < 8; pages++) {
          const page = this.readPage(sessionId, last, CATCH_UP_PAGE)
          for (const event of page) deliver(event)
          if (page.length < CATCH_UP_PAGE) {
            live = true
            for (const event of buffer.splice(0)) deliver(event)
            return
          }
        }
        // A long backlog: yield to the event loop between chunks of pages.
        setImmediate(catchUp)
      } catch (error) {
        close()
        if (onError) onError(error)
        else this.reportListenerError(error)
      }
    }
    setImmediate(catchUp)
    return { close }
  }

  followerCount(sessionId: string): number {
    return this.listeners.get(sessionId)?.size ?? 0
  }
}

import type { EventListener, StoredEvent, Subscription } from './types.js'

/** Reads stored events of a session with `seq > after`, in order, at most `limit`. */
export type PageReader = (sessionId: string, after: number, limit: number) => StoredEvent[] | Promise<StoredEvent[]>

const CATCH_UP_PAGE = 500

interface Follower {
  receive(event: StoredEvent): void
  /** The last `seq` it delivered. */
  position(): number
  /** Past its backlog: it relies on published events from now on. */
  isLive(): boolean
  /** Deliver the events it holds back for a gap that reading could not fill. */
  releaseHeld(): void
}

/**
 * Fan-out of committed events to the followers of a session in this process.
 *
 * `publish` is called by the store right after a commit of this process, so
 * a follower never sees an event that is not durable. Commits of other
 * processes (other berth instances on one PostgreSQL) arrive as a pointer
 * (`notify`: session, last seq) and the feed reads the rows itself.
 *
 * `follow` replays what is stored after a cursor and then switches to live
 * delivery without a gap or a duplicate: it listens before it reads, buffers
 * what commits meanwhile, and drops anything at or below the last `seq` it
 * delivered. `seq` runs 1, 2, 3… in every session, so a live follower that
 * receives an event beyond the next one knows it missed some (a pointer
 * still on its way, an owner that changed instance): it holds the event and
 * has the missing ones read.
 */
export class LiveFeed {
  private readonly followers = new Map<string, Set<Follower>>()
  /** Per followed session, the furthest `seq` a pointer announced. */
  private readonly announced = new Map<string, number>()
  /** Sessions whose rows are being read for a pointer, and how far that read must reach. */
  private readonly pulls = new Map<string, { wanted: number }>()

  constructor(
    private readonly readPage: PageReader,
    private readonly reportListenerError: (error: unknown) => void,
  ) {}

  publish(events: readonly StoredEvent[]): void {
    for (const event of events) {
      const set = this.followers.get(event.sessionId)
      if (!set) continue
      for (const follower of set) follower.receive(event)
    }
  }

  /**
   * Another process committed a session's events up to `lastSeq`: read and
   * publish what the live followers here lack. One read at a time per
   * session; pointers arriving meanwhile extend it.
   *
   * @example
   *   bus.onPointer((sessionId, lastSeq) => feed.notify(sessionId, lastSeq))
   */
  notify(sessionId: string, lastSeq: number): void {
    if (!this.followers.has(sessionId)) return
    if (lastSeq > (this.announced.get(sessionId) ?? 0)) this.announced.set(sessionId, lastSeq)
    const pending = this.pulls.get(sessionId)
    if (pending) {
      pending.wanted = Math.max(pending.wanted, lastSeq)
      return
    }
    if (this.livePosition(sessionId) >= lastSeq) return
    const pull = { wanted: lastSeq }
    this.pulls.set(sessionId, pull)
    void this.pull(sessionId, pull).finally(() => this.pulls.delete(sessionId))
  }

  /** After a lost connection to the other processes: read whatever every followed session may have missed. */
  catchUpAll(): void {
    for (const sessionId of this.followers.keys()) this.notify(sessionId, Number.MAX_SAFE_INTEGER)
  }

  follow(sessionId: string, after: number, onEvent: EventListener, onError?: (error: unknown) => void): Subscription {
    let last = after
    let live = false
    let closed = false
    const buffer: StoredEvent[] = []
    /** Live events beyond the next one, waiting for the ones between to be read. */
    const held = new Map<number, StoredEvent>()

    const deliver = (event: StoredEvent): void => {
      if (closed || event.seq <= last) return
      last = event.seq
      try {
        onEvent(event)
      } catch (error) {
        this.reportListenerError(error)
      }
    }
    const deliverInOrder = (event: StoredEvent): void => {
      if (event.seq <= last) return
      if (event.seq > last + 1) {
        held.set(event.seq, event)
        this.notify(sessionId, event.seq - 1)
        return
      }
      deliver(event)
      for (let next = held.get(last + 1); next !== undefined; next = held.get(last + 1)) {
        held.delete(next.seq)
        deliver(next)
      }
      for (const seq of held.keys()) if (seq <= last) held.delete(seq)
    }
    const follower: Follower = {
      receive: (event) => {
        if (live) deliverInOrder(event)
        else buffer.push(event)
      },
      position: () => last,
      isLive: () => live,
      releaseHeld: () => {
        for (const seq of [...held.keys()].sort((a, b) => a - b)) {
          const event = held.get(seq) as StoredEvent
          held.delete(seq)
          deliver(event)
        }
      },
    }

    let set = this.followers.get(sessionId)
    if (!set) {
      set = new Set()
      this.followers.set(sessionId, set)
    }
    set.add(follower)

    const close = (): void => {
      if (closed) return
      closed = true
      const current = this.followers.get(sessionId)
      current?.delete(follower)
      if (current?.size === 0) {
        this.followers.delete(sessionId)
        this.announced.delete(sessionId)
      }
    }

    // The follower is registered before the first read, so whatever commits
    // while the backlog is read (the reads may be asynchronous) is buffered,
    // then delivered in order after it; `deliver` drops what a read already gave.
    const catchUp = async (): Promise<void> => {
      try {
        for (let pages = 0; !closed; pages++) {
          const page = await this.readPage(sessionId, last, CATCH_UP_PAGE)
          for (const event of page) deliver(event)
          if (page.length < CATCH_UP_PAGE) {
            live = true
            for (const event of buffer.splice(0).sort((a, b) => a.seq - b.seq)) deliverInOrder(event)
            // A pointer that came while the backlog was read may reach beyond the last page.
            const announced = this.announced.get(sessionId) ?? 0
            if (announced > last) this.notify(sessionId, announced)
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
    return this.followers.get(sessionId)?.size ?? 0
  }

  /** The least position among the session's live followers (those catching up read for themselves). */
  private livePosition(sessionId: string): number {
    let least = Number.POSITIVE_INFINITY
    for (const follower of this.followers.get(sessionId) ?? []) {
      if (follower.isLive()) least = Math.min(least, follower.position())
    }
    return least
  }

  private async pull(sessionId: string, pull: { wanted: number }): Promise<void> {
    try {
      for (;;) {
        const from = this.livePosition(sessionId)
        if (!Number.isFinite(from) || from >= pull.wanted) return
        const page = await this.readPage(sessionId, from, CATCH_UP_PAGE)
        this.publish(page)
        if (page.length === 0 || this.livePosition(sessionId) === from) {
          // The log has nothing between (a gap in an imported log): let held events through.
          for (const follower of this.followers.get(sessionId) ?? []) follower.releaseHeld()
          return
        }
      }
    } catch (error) {
      this.reportListenerError(error)
    }
  }
}

import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { LiveFeed } from '../../src/store/live-feed.js'
import type { StoredEvent } from '../../src/store/types.js'

const SESSION = 's'

function event(seq: number): StoredEvent {
  return { id: `e${seq}`, sessionId: SESSION, seq, timestamp: null, type: 'system', payload: `{"seq":${seq}}` }
}

/** An in-memory log whose reads the test sees, and whose commits publish to the feed as the store does. */
function memoryLog(initial: number) {
  const events = Array.from({ length: initial }, (_, i) => event(i + 1))
  const reads: number[] = []
  let onRead: (() => void) | null = null
  const feed = new LiveFeed(
    (_sessionId, after, limit) => {
      reads.push(after)
      const page = events.filter((e) => e.seq > after).slice(0, limit)
      const hook = onRead
      onRead = null
      hook?.()
      return page
    },
    (error) => {
      throw error
    },
  )
  const commit = () => {
    const next = event(events.length + 1)
    events.push(next)
    feed.publish([next])
  }
  return {
    feed,
    reads,
    commit,
    /** Run `hook` once, inside the next page read (after the page was taken). */
    duringNextRead(hook: () => void) {
      onRead = hook
    },
  }
}

/** Wait until the catch-up (scheduled with setImmediate) and anything after it has run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await nextTurn()
}

describe('LiveFeed.follow: backlog, then live, no gap and no duplicate', () => {
  it('delivers once an event committed between follow() and its catch-up (it is both read and buffered)', async () => {
    const log = memoryLog(1)
    const seen: number[] = []
    log.feed.follow(SESSION, 1, (e) => seen.push(e.seq))
    // The catch-up has not run yet: this commit is buffered, and the catch-up's read finds it too.
    log.commit()
    expect(log.reads).toEqual([])
    await settle()
    expect(log.reads).toEqual([1])
    expect(seen).toEqual([2])

    log.commit()
    expect(seen).toEqual([2, 3])
  })

  it('delivers once an event published while a page is being read', async () => {
    const log = memoryLog(3)
    const seen: number[] = []
    log.feed.follow(SESSION, 0, (e) => seen.push(e.seq))
    // Published during the read, after the page was taken: arrives through the buffer only.
    log.duringNextRead(() => log.commit())
    await settle()
    expect(seen).toEqual([1, 2, 3, 4])
  })

  it('delivers once what commits between the chunks of a long catch-up', async () => {
    const log = memoryLog(4_100)
    const seen: number[] = []
    log.feed.follow(SESSION, 0, (e) => seen.push(e.seq))
    await nextTurn() // the first chunk (8 pages of 500) ran; the rest waits for the next turn
    expect(seen).toHaveLength(4_000)
    log.commit()
    log.commit()
    await settle()
    expect(seen).toEqual(Array.from({ length: 4_102 }, (_, i) => i + 1))
  })
})

// The same race through a real store, on every backend: store-contract.ts (follow).

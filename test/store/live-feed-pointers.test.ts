import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { LiveFeed } from '../../src/store/live-feed.js'
import type { StoredEvent } from '../../src/store/types.js'

// Commits of other berth instances reach this one as pointers (session, last
// seq); the feed reads the rows itself. These tests play the other instance
// by adding rows to the log without publishing them here.

const event = (seq: number): StoredEvent => ({
  id: `e${seq}`,
  sessionId: 's',
  seq,
  timestamp: null,
  type: 'system',
  payload: '{}',
})

function sharedLog(initial: number, readDelayMs = 1) {
  const rows = Array.from({ length: initial }, (_, i) => event(i + 1))
  let reads = 0
  const feed = new LiveFeed(
    async (_session, after, limit) => {
      reads++
      const page = rows.filter((row) => row.seq > after).slice(0, limit)
      await sleep(readDelayMs)
      return page
    },
    (error) => {
      throw error
    },
  )
  return {
    feed,
    reads: () => reads,
    /** Another instance commits: the row exists, nothing is published here. */
    remoteCommit() {
      const row = event(rows.length + 1)
      rows.push(row)
      return row.seq
    },
    /** This instance commits: stored and published. */
    localCommit() {
      const row = event(rows.length + 1)
      rows.push(row)
      feed.publish([row])
    },
  }
}

const upTo = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('LiveFeed pointers from other instances', () => {
  it('reads and delivers what another instance committed, once, in order, for many pointers', async () => {
    const log = sharedLog(3)
    const seen: number[] = []
    const sub = log.feed.follow('s', 0, (e) => seen.push(e.seq))
    await sleep(10)
    for (let i = 0; i < 20; i++) log.feed.notify('s', log.remoteCommit())
    await sleep(30)
    expect(seen).toEqual(upTo(1, 23))
    sub.close()
  })

  it('a local event beyond a remote one still on its way waits for it', async () => {
    const log = sharedLog(2)
    const seen: number[] = []
    log.feed.follow('s', 0, (e) => seen.push(e.seq))
    await sleep(10)
    log.remoteCommit() // seq 3: its pointer is late
    log.localCommit() // seq 4, published here at once
    await sleep(20)
    expect(seen).toEqual([1, 2, 3, 4])
  })

  it('a pointer that arrives while the backlog is read is honoured once the follower is live', async () => {
    const log = sharedLog(5, 15)
    const seen: number[] = []
    log.feed.follow('s', 0, (e) => seen.push(e.seq))
    await sleep(5) // the backlog read is in flight
    log.feed.notify('s', log.remoteCommit())
    await sleep(60)
    expect(seen).toEqual(upTo(1, 6))
  })

  it('catchUpAll reads what was missed while pointers could not arrive', async () => {
    const log = sharedLog(1)
    const seen: number[] = []
    log.feed.follow('s', 0, (e) => seen.push(e.seq))
    await sleep(10)
    log.remoteCommit()
    log.remoteCommit()
    await sleep(10)
    expect(seen).toEqual([1])
    log.feed.catchUpAll()
    await sleep(20)
    expect(seen).toEqual([1, 2, 3])
  })

  it('ignores pointers of sessions nobody here follows, and pointers it already has', async () => {
    const log = sharedLog(4)
    log.feed.notify('s', 4)
    await sleep(10)
    expect(log.reads()).toBe(0)
    const sub = log.feed.follow('s', 0, () => {})
    await sleep(10)
    const before = log.reads()
    log.feed.notify('s', 4)
    await sleep(10)
    expect(log.reads()).toBe(before)
    sub.close()
  })
})

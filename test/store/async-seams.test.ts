import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { GroupCommitter } from '../../src/store/group-commit.js'
import { LiveFeed } from '../../src/store/live-feed.js'
import type { StoredEvent } from '../../src/store/types.js'

// The store's two seams for asynchronous backends (PostgreSQL): a commit that
// takes time, and reads that resolve later than they were asked.

describe('GroupCommitter with an asynchronous writer', () => {
  it('writes one batch at a time; what arrives during a write forms the next batch, in order', async () => {
    const batches: number[][] = []
    let inFlight = 0
    let maxInFlight = 0
    const committer = new GroupCommitter<number, number>(async (items) => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await sleep(20)
      batches.push([...items])
      inFlight--
      return items.map((item) => item * 10)
    })
    const first = [1, 2, 3].map((item) => committer.submit(item))
    await sleep(5) // the first batch is being written now
    const second = [4, 5].map((item) => committer.submit(item))
    expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50])
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ])
    expect(maxInFlight).toBe(1)
  })

  it('retries a failed batch item by item, so only the bad item fails', async () => {
    const committer = new GroupCommitter<number, number>(async (items) => {
      await sleep(1)
      if (items.includes(2)) throw new Error('bad item 2')
      return items
    })
    const results = await Promise.allSettled([1, 2, 3].map((item) => committer.submit(item)))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  })

  it('never writes a committed batch again when publishing it fails', async () => {
    let writes = 0
    const reported: unknown[] = []
    const committer = new GroupCommitter<number, number>(
      async (items) => {
        writes++
        return items
      },
      () => {
        throw new Error('a follower failed')
      },
      (error) => reported.push(error),
    )
    expect(await Promise.all([committer.submit(1), committer.submit(2)])).toEqual([1, 2])
    expect(writes).toBe(1)
    expect(reported).toHaveLength(1)
  })

  it('drain waits for a write in flight and for what queued behind it', async () => {
    const written: number[] = []
    const committer = new GroupCommitter<number, number>(async (items) => {
      await sleep(10)
      written.push(...items)
      return items
    })
    void committer.submit(1)
    await sleep(2)
    void committer.submit(2)
    await committer.drain()
    expect(written).toEqual([1, 2])
  })
})

describe('LiveFeed with an asynchronous page reader', () => {
  const event = (seq: number): StoredEvent => ({
    id: `e${seq}`,
    sessionId: 's',
    seq,
    timestamp: null,
    type: 'system',
    payload: '{}',
  })

  it('delivers the backlog, then what committed while the reads were pending: no gap, no duplicate', async () => {
    const log = Array.from({ length: 1200 }, (_, i) => event(i + 1))
    const commit = () => {
      const next = event(log.length + 1)
      log.push(next)
      feed.publish([next])
    }
    const feed = new LiveFeed(
      async (_session, after, limit) => {
        const page = log.filter((e) => e.seq > after).slice(0, limit)
        // Commits land between the database answering and the answer arriving.
        commit()
        await sleep(2)
        commit()
        return page
      },
      (error) => {
        throw error
      },
    )
    const seen: number[] = []
    const sub = feed.follow('s', 100, (e) => seen.push(e.seq))
    await sleep(60)
    commit()
    await sleep(5)
    sub.close()
    expect(seen[0]).toBe(101)
    expect(seen).toEqual(Array.from({ length: log.length - 100 }, (_, i) => i + 101))
  })

  it('reports a failing read to the follower and stops following', async () => {
    const feed = new LiveFeed(
      async () => {
        await sleep(1)
        throw new Error('database gone')
      },
      () => {},
    )
    const errors: unknown[] = []
    feed.follow(
      's',
      0,
      () => {},
      (error) => errors.push(error),
    )
    await sleep(20)
    expect(errors).toHaveLength(1)
    expect(feed.followerCount('s')).toBe(0)
  })
})

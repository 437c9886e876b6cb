import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { postgresUnavailableReason, sharedPostgres } from '../helpers/postgres.js'

/**
 * The append fence (src/store/postgres/append-fence.ts): an instance numbers
 * a session's events from the last seq it wrote, so everything that could
 * make that number or a checked lease epoch wrong must reach it, whichever
 * instance or SQL did it.
 */
const skip = postgresUnavailableReason()
if (skip) console.warn(`PostgreSQL append fence tests skipped: ${skip}`)

describe.skipIf(Boolean(skip))('PostgreSQL append fence', () => {
  const opened: { close(): Promise<void> }[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((each) => each.close().catch(() => undefined)))
  })

  /** Two instances and an operator's connection on a fresh database, with session `s` holding five events written by `a`. */
  async function twoInstances() {
    const url = await (await sharedPostgres(inject('postgresRunDir'))).createDatabase()
    const a = await PostgresStore.open({ url, poolSize: 2 })
    const b = await PostgresStore.open({ url, poolSize: 2 })
    const sql = new pg.Client({ connectionString: url })
    await sql.connect()
    opened.push(a, b, { close: () => sql.end() })
    await a.createSession({ id: 's', workspaceDir: '/data/workspace/s', deviceId: 'd' })
    for (let n = 1; n <= 5; n++) await a.append('s', { type: 'system', content: { n } })
    return { a, b, sql }
  }

  async function seqs(store: PostgresStore, id: string): Promise<number[]> {
    return (await store.readEvents(id, { limit: 1000 })).events.map((event) => event.seq)
  }

  it('a session deleted and made again elsewhere is numbered from its new last seq, without a gap', async () => {
    const { a, b } = await twoInstances()
    await b.deleteSession('s')
    await b.createSession({ id: 's', workspaceDir: '/data/workspace/s', deviceId: 'd' })
    await b.appendMany('s', [
      { type: 'system', content: { again: 1 } },
      { type: 'system', content: { again: 2 } },
    ])
    expect((await a.append('s', { type: 'system', content: { after: true } })).seq).toBe(3)
    expect(await seqs(a, 's')).toEqual([1, 2, 3])
  })

  it("events deleted by an operator's SQL are seen too: the next append follows the last one left", async () => {
    const { a, sql } = await twoInstances()
    await sql.query("DELETE FROM event WHERE session_id = 's' AND seq > 2")
    expect((await a.append('s', { type: 'system', content: {} })).seq).toBe(3)
  })

  it('appends of another instance meanwhile are numbered after, not over', async () => {
    const { a, b } = await twoInstances()
    for (let n = 0; n < 3; n++) await b.append('s', { type: 'system', content: { from: 'b', n } })
    const next = await a.appendMany('s', [
      { type: 'system', content: { from: 'a' } },
      { type: 'system', content: { from: 'a' } },
    ])
    expect(next.map((event) => event.seq)).toEqual([9, 10])
    expect(await seqs(a, 's')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  })

  it('a merge extending a session fences: appends follow the merged events even past a hole', async () => {
    const { a, b } = await twoInstances()
    const session = await b.getSession('s')
    if (session === null) throw new Error('no session')
    const events = [7, 8].map((seq) => ({
      id: `0000000${seq}-0000-4000-8000-00000000000${seq}`,
      sessionId: 's',
      seq,
      timestamp: '2026-01-01 00:00:00.000000',
      type: 'system',
      payload: `{"type": "system", "content": {"merged": ${seq}}}`,
    }))
    expect((await b.mergeSession({ session, events })).outcome).toBe('extended')
    expect((await a.append('s', { type: 'system', content: {} })).seq).toBe(9)
  })

  it('a merge that brings a new session (an import) leaves appends unfenced', async () => {
    const { b, sql } = await twoInstances()
    const generation = async () => (await sql.query('SELECT generation FROM append_fence')).rows[0]?.generation
    const before = await generation()
    const session = {
      ...(await b.getSession('s')),
      id: 'n',
      workspaceDir: '/data/workspace/n',
    } as Parameters<typeof b.mergeSession>[0]['session']
    expect((await b.mergeSession({ session, events: [] })).outcome).toBe('inserted')
    expect(await generation()).toBe(before)
  })

  it('an append caught in a deadlock with a delete that locked rows before fencing is tried again and stored', async () => {
    const { a, sql } = await twoInstances()
    // As an older berth's deleteSession did: the session row first, then the event delete (which fences).
    await sql.query('BEGIN')
    await sql.query("SELECT 1 FROM session WHERE id = 's' FOR UPDATE")
    const appended = a.append('s', { type: 'system', content: { caught: true } })
    await sleep(200) // the append holds the fence shared and waits for the row
    // Waits for the append's share of the fence: PostgreSQL sees the cycle and cancels the append's transaction.
    await sql.query("DELETE FROM event WHERE session_id = 'nobody'")
    await sql.query('COMMIT')
    expect((await appended).seq).toBe(6)
  })

  it('an epoch this instance had checked is refused after its own next claim of the session', async () => {
    const { a } = await twoInstances()
    const first = await a.claimRun('s', 'host-a/1', 10_000)
    if (first === null) throw new Error('claim failed')
    await a.append('s', { type: 'system', content: {} }, { epoch: first.epoch })
    expect(await a.endRun(first, 'idle')).toBe(true)
    const second = await a.claimRun('s', 'host-a/1', 10_000)
    expect(second?.epoch).toBe(first.epoch + 1)
    await expect(a.append('s', { type: 'system', content: {} }, { epoch: first.epoch })).rejects.toSatisfy(
      (error: unknown) => isBerthError(error, 'RUN_LEASE_LOST'),
    )
    expect((await a.append('s', { type: 'system', content: {} }, { epoch: second?.epoch })).seq).toBe(7)
  })

  it('with the fence row truncated away, appends still number right and a takeover still fences', async () => {
    const { a, b, sql } = await twoInstances()
    const lease = await a.claimRun('s', 'host-a/1', 10_000)
    if (lease === null) throw new Error('claim failed')
    await a.append('s', { type: 'system', content: {} }, { epoch: lease.epoch })
    await sql.query('TRUNCATE append_fence')
    await a.append('s', { type: 'system', content: {} }, { epoch: lease.epoch })
    await sql.query("UPDATE session SET lease_expires_at = 0 WHERE id = 's'")
    const taken = await b.claimRun('s', 'host-b/2', 10_000)
    expect(taken?.epoch).toBe(lease.epoch + 1)
    await expect(a.append('s', { type: 'system', content: {} }, { epoch: lease.epoch })).rejects.toSatisfy(
      (error: unknown) => isBerthError(error, 'RUN_LEASE_LOST'),
    )
    await sql.query("DELETE FROM event WHERE session_id = 's' AND seq > 3")
    expect((await b.append('s', { type: 'system', content: {} }, { epoch: taken?.epoch })).seq).toBe(4)
    expect((await a.append('s', { type: 'system', content: {} })).seq).toBe(5)
  })
})

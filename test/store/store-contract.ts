import { setImmediate as nextTurn } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { pythonJsonDumps } from '../../src/core/python-json.js'
import { MIGRATION_NAMES } from '../../src/store/migrations.js'
import type { Store } from '../../src/store/store.js'
import type { SessionRecord, SessionTransfer, StoredEvent } from '../../src/store/types.js'

/**
 * The behaviour every `Store` backend must show, as one suite run per backend
 * (test/store/sqlite-contract.test.ts, postgres-contract.test.ts), the way
 * Kysely runs its tests over every dialect. Only the `Store` interface is
 * used here; what a single backend does beyond it (SQLite's pragmas, WAL,
 * corrupt files, upgrades) is tested beside that backend.
 */

/** A fresh, empty database with a store open on it. */
export interface StoreUnderTest {
  store: Store
  /** Another store on the same database, as a second process or server instance would open it. */
  openAnother(): Promise<Store>
}

type SessionOptions = { deviceId?: string; createdAt?: string; label?: string; name?: string }
type SessionMaker = (id: string, options?: SessionOptions) => Promise<SessionRecord>

const STORED_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/

function hasCode(code: string) {
  return (error: unknown) => isBerthError(error, code as never)
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await nextTurn()
}

/** Wait (a bounded while) until `check` holds: for deliveries that arrive over a real connection. */
async function eventually(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}

/**
 * Define the suite for one backend. `skip` (a reason) skips it with that
 * reason printed, for a backend whose server is not installed here.
 */
export function describeStore(
  name: string,
  openStoreForTest: () => Promise<StoreUnderTest>,
  options: { skip?: string | null } = {},
): void {
  if (options.skip) console.warn(`Store contract: ${name} skipped: ${options.skip}`)
  describe.skipIf(Boolean(options.skip))(`Store contract: ${name}`, () => {
    const opened: Store[] = []

    async function fresh(): Promise<StoreUnderTest & { session: SessionMaker }> {
      const target = await openStoreForTest()
      opened.push(target.store)
      const openAnother = async () => {
        const another = await target.openAnother()
        opened.push(another)
        return another
      }
      return { store: target.store, openAnother, session: (id, options) => session(target.store, id, options) }
    }

    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close().catch(() => undefined)
    })

    function session(store: Store, id: string, options: SessionOptions = {}): Promise<SessionRecord> {
      return store.createSession({
        id,
        workspaceDir: `/data/workspace/${id}`,
        deviceId: options.deviceId ?? 'dev-1',
        createdAt: options.createdAt,
        label: options.label,
        name: options.name,
      })
    }

    describe('sessions', () => {
      it('creates a session with the stored time form and refuses a duplicate id or folder', async () => {
        const { store, session } = await fresh()
        const created = await session('s1', { name: 'First', label: 'gaia:run' })
        expect(created).toMatchObject({
          id: 's1',
          workspaceDir: '/data/workspace/s1',
          deviceId: 'dev-1',
          status: 'idle',
          summary: null,
          name: 'First',
          label: 'gaia:run',
          runOwner: null,
        })
        expect(created.createdAt).toMatch(STORED_TIME)
        expect(created.updatedAt).toBe(created.createdAt)
        expect(Math.abs(Date.parse(`${created.createdAt}Z`) - Date.now())).toBeLessThan(60_000)
        const given = await session('s2', { createdAt: '2021-03-04 05:06:07.000008' })
        expect(given.createdAt).toBe('2021-03-04 05:06:07.000008')
        expect(await store.getSession('s2')).toEqual(given)

        await expect(session('s1')).rejects.toSatisfy(hasCode('SESSION_EXISTS'))
        await expect(
          store.createSession({ id: 'other', workspaceDir: '/data/workspace/s1', deviceId: null }),
        ).rejects.toSatisfy(hasCode('SESSION_EXISTS'))
        expect(await store.getSession('other')).toBeNull()
        expect(await store.getSession('missing')).toBeNull()
      })

      it('renames, summarises and sets the status with its run owner', async () => {
        const { store, session } = await fresh()
        await session('s1', { createdAt: '2020-01-01 00:00:00.000000' })
        const renamed = await store.renameSession('s1', 'My task ✓')
        expect(renamed.name).toBe('My task ✓')
        expect(renamed.updatedAt).toMatch(STORED_TIME)
        expect(renamed.updatedAt && renamed.updatedAt > '2020-01-01 00:00:00.000000').toBe(true)
        expect((await store.setSummary('s1', 'Short summary')).summary).toBe('Short summary')

        await session('s2')
        await store.setStatus('s1', 'running', 'host-a/123')
        expect(await store.listSessionsWithStatus('running')).toEqual([
          expect.objectContaining({ id: 's1', status: 'running', runOwner: 'host-a/123' }),
        ])
        await store.setStatus('s1', 'interrupted', 'ignored/1')
        expect(await store.getSession('s1')).toMatchObject({ status: 'interrupted', runOwner: null })
        expect(await store.listSessionsWithStatus('running')).toEqual([])
        expect((await store.listSessionsWithStatus('idle')).map((s) => s.id)).toEqual(['s2'])

        for (const change of [
          () => store.renameSession('missing', 'x'),
          () => store.setSummary('missing', 'x'),
          () => store.setStatus('missing', 'idle'),
        ]) {
          await expect(change()).rejects.toSatisfy(hasCode('SESSION_NOT_FOUND'))
        }
      })

      it('lists a device’s sessions newest first with their first message, paged by cursor', async () => {
        const { store, session } = await fresh()
        // 23 sessions over 5 distinct times: ties on created_at are ordered by id, newest (largest) first.
        const expected: { id: string; createdAt: string }[] = []
        for (let i = 0; i < 23; i++) {
          const id = `s${String(i).padStart(2, '0')}`
          const createdAt = `2025-01-01 00:00:0${i % 5}.000000`
          expected.push({ id, createdAt })
          await session(id, { createdAt })
          await store.appendMany(id, [
            { type: 'system', content: { message: 'start' } },
            { type: 'user_message', content: { text: `task ${i} ✓` } },
            { type: 'user_message', content: { text: `later ${i}` } },
          ])
        }
        await session('quiet', { createdAt: '2024-12-31 00:00:00.000000' })
        await session('other-device', { deviceId: 'dev-2' })
        expected.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))

        const ids: string[] = []
        const firstMessages = new Map<string, string | null>()
        let cursor: string | null = null
        let pages = 0
        do {
          const page = await store.listSessions('dev-1', { limit: 7, cursor })
          expect(page.items.length).toBeLessThanOrEqual(7)
          for (const item of page.items) firstMessages.set(item.id, item.firstMessage)
          ids.push(...page.items.map((s) => s.id))
          cursor = page.nextCursor
          pages++
        } while (cursor)
        expect(pages).toBe(4)
        expect(ids).toEqual([...expected.map((s) => s.id), 'quiet'])
        expect(firstMessages.get('s07')).toBe('task 7 ✓')
        expect(firstMessages.get('quiet')).toBeNull()

        const exact = await store.listSessions('dev-1', { limit: 24 })
        expect(exact.items).toHaveLength(24)
        expect(exact.nextCursor).toBeNull()
        expect((await store.listSessions('dev-2')).items.map((s) => s.id)).toEqual(['other-device'])
        expect((await store.listSessions('nobody')).items).toEqual([])
        await expect(store.listSessions('dev-1', { cursor: 'garbage' })).rejects.toSatisfy(hasCode('INVALID_CURSOR'))
      })

      it('orders ids bytewise, as SQLite does, whatever the database’s language rules', async () => {
        const { store, session } = await fresh()
        const ids = ['b', 'B', 'a', '_x', 'Z-1', 'a-b', 'ab', 'A']
        for (const id of ids) await session(id, { createdAt: '2025-01-01 00:00:00.000000' })
        const bytewise = [...ids].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
        expect((await store.scanSessions()).map((s) => s.id)).toEqual(bytewise)
        const paged: string[] = []
        let cursor: string | null = null
        do {
          const page = await store.listSessions('dev-1', { limit: 3, cursor })
          paged.push(...page.items.map((s) => s.id))
          cursor = page.nextCursor
        } while (cursor)
        expect(paged).toEqual([...bytewise].reverse())
      })

      it('filters the list by label', async () => {
        const { store, session } = await fresh()
        await session('a', { label: 'gaia:one', createdAt: '2025-01-01 00:00:01.000000' })
        await session('b', { label: 'gaia:two', createdAt: '2025-01-01 00:00:02.000000' })
        await session('c', { label: 'gaia:one', createdAt: '2025-01-01 00:00:03.000000' })
        await session('d', { createdAt: '2025-01-01 00:00:04.000000' })
        const page = await store.listSessions('dev-1', { label: 'gaia:one', limit: 1 })
        expect(page.items.map((s) => s.id)).toEqual(['c'])
        const next = await store.listSessions('dev-1', { label: 'gaia:one', cursor: page.nextCursor })
        expect(next.items.map((s) => s.id)).toEqual(['a'])
        expect(next.nextCursor).toBeNull()
        expect((await store.listSessions('dev-1')).items.map((s) => s.id)).toEqual(['d', 'c', 'b', 'a'])
      })
    })

    describe('event log', () => {
      it('numbers events 1..n per session in append order and reads back exactly what it returned', async () => {
        const { store, session } = await fresh()
        await session('a')
        await session('b')
        const appends: Promise<StoredEvent>[] = []
        for (let i = 0; i < 300; i++) {
          appends.push(store.append(i % 3 === 0 ? 'b' : 'a', { type: 'tool_result', content: { i } }))
        }
        const stored = await Promise.all(appends)
        expect(stored.filter((e) => e.sessionId === 'a').map((e) => e.seq)).toEqual(range(1, 200))
        expect(stored.filter((e) => e.sessionId === 'b').map((e) => e.seq)).toEqual(range(1, 100))
        const read = (await store.readEvents('a', { limit: 1000 })).events
        expect(read).toEqual(stored.filter((e) => e.sessionId === 'a'))
        expect(read.map((e) => JSON.parse(e.payload).content.i)).toEqual(range(0, 299).filter((i) => i % 3 !== 0))
        const many = await store.appendMany('b', [
          { type: 'agent_response', content: { text: 'x' } },
          { type: 'agent_response', content: { text: 'y' } },
        ])
        expect(many.map((e) => e.seq)).toEqual([101, 102])
        expect(await store.appendMany('b', [])).toEqual([])
        expect(await store.countEvents('a')).toBe(200)
        expect(await store.countEvents('b')).toBe(102)
        expect(await store.countEvents('missing')).toBe(0)
      })

      it('stores the payload as Python-style JSON text and gives it back byte for byte', async () => {
        const { store, session } = await fresh()
        await session('u')
        const text = 'é 日本語 🚀 "quoted" \\ \n tab\t \u0001 \u001f \u2028'
        const content = { n: [1, 2.5, -0.125, 1e21, null, true, false], nested: { ключ: '値', empty: {} } }
        // Both in one commit: payloads that travel together stay apart, whatever control characters they hold.
        const [stored, second] = await store.appendMany('u', [
          { type: 'user_message', content: { text, files: [] } },
          { type: 'tool_result', content },
        ])
        if (stored === undefined || second === undefined) throw new Error('appendMany returned too few events')
        expect(stored.payload).toBe(
          '{"type": "user_message", "content": {"text": "\\u00e9 \\u65e5\\u672c\\u8a9e \\ud83d\\ude80 \\"quoted\\" \\\\ \\n tab\\t \\u0001 \\u001f \\u2028", "files": []}}',
        )
        expect(second.payload).toBe(pythonJsonDumps({ type: 'tool_result', content }))
        const [first, again] = (await store.readEvents('u')).events
        expect(first?.payload).toBe(stored.payload)
        expect(again?.payload).toBe(second.payload)
        expect(JSON.parse(first?.payload ?? '').content.text).toBe(text)
      })

      it('stamps events in the stored naive UTC form with six digits, and keeps a given timestamp exactly', async () => {
        const { store, session } = await fresh()
        await session('t')
        const before = Date.now()
        const now = await store.append('t', { type: 'system', content: {} })
        expect(now.timestamp).toMatch(STORED_TIME)
        expect(Math.abs(Date.parse(`${now.timestamp}Z`) - before)).toBeLessThan(60_000)
        const given = await store.append('t', {
          type: 'system',
          content: {},
          id: 'given-id',
          timestamp: '1999-12-31 23:59:59.999999',
        })
        expect(given).toMatchObject({ id: 'given-id', timestamp: '1999-12-31 23:59:59.999999', seq: 2 })
        const read = (await store.readEvents('t')).events
        expect(read.map((e) => e.timestamp)).toEqual([now.timestamp, '1999-12-31 23:59:59.999999'])
        expect(read[0]?.id).toMatch(/^[0-9a-f-]{36}$/)
      })

      it('pages through events with nextAfter, without a cap on the total', async () => {
        const { store, session } = await fresh()
        await session('p')
        await store.appendMany(
          'p',
          range(1, 25).map((i) => ({ type: 'tool_result', content: { i } })),
        )
        const first = await store.readEvents('p', { limit: 10 })
        expect(first.events.map((e) => e.seq)).toEqual(range(1, 10))
        expect(first.nextAfter).toBe(10)
        const second = await store.readEvents('p', { after: 10, limit: 10 })
        expect(second.events.map((e) => e.seq)).toEqual(range(11, 20))
        expect(second.nextAfter).toBe(20)
        const last = await store.readEvents('p', { after: 20, limit: 10 })
        expect(last.events.map((e) => e.seq)).toEqual(range(21, 25))
        expect(last.nextAfter).toBeNull()
        const boundary = await store.readEvents('p', { after: 15, limit: 10 })
        expect(boundary.events.map((e) => e.seq)).toEqual(range(16, 25))
        expect(boundary.nextAfter).toBeNull()
        expect(await store.readEvents('p', { after: 25 })).toEqual({ events: [], nextAfter: null })
        expect(await store.readEvents('missing')).toEqual({ events: [], nextAfter: null })

        await store.appendMany(
          'p',
          range(26, 2600).map((i) => ({ type: 'tool_result', content: { i } })),
        )
        const seen: number[] = []
        let after = 0
        for (;;) {
          const page = await store.readEvents('p', { after, limit: 1000 })
          seen.push(...page.events.map((e) => e.seq))
          if (page.nextAfter === null) break
          after = page.nextAfter
        }
        expect(seen).toEqual(range(1, 2600))
      })

      it('gives 50 concurrent writers to one and to many sessions every seq once, no gap', async () => {
        const { store, session } = await fresh()
        const sessions = ['one', ...range(1, 9).map((i) => `many-${i}`)]
        for (const id of sessions) await session(id)
        const writer = async (w: number) => {
          const results: StoredEvent[] = []
          for (let i = 0; i < 20; i++) {
            // Half the writers share one session; the rest spread over nine.
            const target = w % 2 === 0 ? 'one' : `many-${1 + (w % 9)}`
            results.push(await store.append(target, { type: 'tool_result', content: { w, i } }))
          }
          return results
        }
        const all = (await Promise.all(range(0, 49).map(writer))).flat()
        expect(new Set(all.map((e) => e.id)).size).toBe(all.length)
        for (const id of sessions) {
          const mine = all.filter((e) => e.sessionId === id)
          const read = (await store.readEvents(id, { limit: 10_000 })).events
          expect(read.map((e) => e.seq)).toEqual(range(1, mine.length))
          expect(new Set(read.map((e) => e.id))).toEqual(new Set(mine.map((e) => e.id)))
        }
        expect(all.filter((e) => e.sessionId === 'one')).toHaveLength(500)
        // Each writer's own appends keep its order.
        const oneRead = (await store.readEvents('one', { limit: 10_000 })).events
        const order = oneRead.map((e) => JSON.parse(e.payload).content as { w: number; i: number })
        for (const w of [0, 2, 48]) {
          expect(order.filter((c) => c.w === w).map((c) => c.i)).toEqual(range(0, 19))
        }
      })

      it('keeps seq without gap or duplicate when four store instances append to the same sessions', async () => {
        const { store, openAnother, session } = await fresh()
        await session('shared')
        await session('other')
        const instances = [store, await openAnother(), await openAnother(), await openAnother()]
        // Each instance keeps one commit in flight; batches of both sessions from all four overlap.
        const write = async (target: Store, tag: string) => {
          for (let i = 0; i < 40; i++) {
            await Promise.all([
              target.appendMany('shared', [
                { type: 'system', content: { tag, i } },
                { type: 'system', content: { tag, i, second: true } },
              ]),
              target.append('other', { type: 'system', content: { tag, i } }),
            ])
          }
        }
        await Promise.all(instances.flatMap((target, n) => [write(target, `${n}a`), write(target, `${n}b`)]))
        const shared = (await store.readEvents('shared', { limit: 10_000 })).events
        expect(shared.map((e) => e.seq)).toEqual(range(1, 640))
        expect(new Set(shared.map((e) => e.id)).size).toBe(640)
        // A batch's events stay together and in order.
        for (let k = 0; k < shared.length; k += 2) {
          expect(JSON.parse(shared[k + 1]?.payload ?? '').content).toEqual({
            ...JSON.parse(shared[k]?.payload ?? '').content,
            second: true,
          })
        }
        expect((await store.readEvents('other', { limit: 10_000 })).events.map((e) => e.seq)).toEqual(range(1, 320))
      })

      it('fails an append to a missing session alone, without harming the batch it shared', async () => {
        const { store, session } = await fresh()
        await session('ok')
        const results = await Promise.allSettled([
          store.append('ok', { type: 'agent_response', content: { text: '1' } }),
          store.append('missing', { type: 'agent_response', content: { text: 'x' } }),
          store.append('ok', { type: 'agent_response', content: { text: '2' } }),
        ])
        expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
        expect(isBerthError((results[1] as PromiseRejectedResult).reason, 'SESSION_NOT_FOUND')).toBe(true)
        expect((await store.readEvents('ok')).events.map((e) => e.seq)).toEqual([1, 2])
        expect(await store.countEvents('missing')).toBe(0)
      })

      it('moves a session’s updated time with its appends, at most a second behind', async () => {
        const { store, session } = await fresh()
        await session('old', { createdAt: '2020-01-01 00:00:00.000000' })
        const first = await store.append('old', { type: 'user_message', content: { text: 'hi' } })
        expect((await store.getSession('old'))?.updatedAt).toBe(first.timestamp)
        const later = await store.append('old', { type: 'agent_response', content: { text: 'hello' } })
        const updatedAt = (await store.getSession('old'))?.updatedAt ?? ''
        expect(Date.parse(`${later.timestamp}Z`) - Date.parse(`${updatedAt}Z`)).toBeLessThan(1000)
      })
    })

    describe('follow', () => {
      it('delivers the backlog after the cursor, then live events: no gap, no duplicate', async () => {
        const { store, session } = await fresh()
        await session('f')
        await store.appendMany(
          'f',
          range(1, 1200).map((i) => ({ type: 'tool_result', content: { i } })),
        )
        const received: number[] = []
        const done = new Promise<void>((resolve) => {
          store.follow('f', 300, (event) => {
            received.push(event.seq)
            if (event.seq === 2000) resolve()
          })
        })
        // Appends race with the catch-up.
        const racing: Promise<StoredEvent>[] = []
        for (let i = 1201; i <= 2000; i++) racing.push(store.append('f', { type: 'tool_result', content: { i } }))
        await Promise.all(racing)
        await done
        expect(received).toEqual(range(301, 2000))
      })

      it('delivers once an event that commits between follow() and its catch-up', async () => {
        const { store, session } = await fresh()
        await session('s')
        await store.append('s', { type: 'system', content: { message: 'one' } })
        // The append is queued before follow() queues its catch-up: seq 2 can reach the follower both
        // as a live event and through the backlog read.
        const pending = store.append('s', { type: 'system', content: { message: 'two' } })
        const seen: number[] = []
        const subscription = store.follow('s', 1, (e) => seen.push(e.seq))
        expect((await pending).seq).toBe(2)
        await eventually(() => seen.length >= 1, 'seq 2')
        await settle()
        expect(seen).toEqual([2])
        await store.append('s', { type: 'system', content: { message: 'three' } })
        await eventually(() => seen.length >= 2, 'seq 3')
        expect(seen).toEqual([2, 3])
        subscription.close()
      })

      it('stops delivering once closed, and follows only its own session', async () => {
        const { store, session } = await fresh()
        await session('x')
        await session('y')
        const seen: string[] = []
        const subscription = store.follow('x', 0, (e) => seen.push(`${e.sessionId}:${e.seq}`))
        await settle()
        await store.append('x', { type: 'system', content: {} })
        await store.append('y', { type: 'system', content: {} })
        await eventually(() => seen.length >= 1, 'x:1')
        subscription.close()
        subscription.close()
        await store.append('x', { type: 'system', content: {} })
        await settle()
        await new Promise((resolve) => setTimeout(resolve, 50))
        expect(seen).toEqual(['x:1'])
      })

      it('keeps delivering to the others when one listener throws', async () => {
        const { store, session } = await fresh()
        await session('e')
        const seen: number[] = []
        store.follow('e', 0, () => {
          throw new Error('listener bug')
        })
        store.follow('e', 0, (event) => seen.push(event.seq))
        await settle()
        await store.append('e', { type: 'system', content: {} })
        await store.append('e', { type: 'system', content: {} })
        await eventually(() => seen.length >= 2, 'two events')
        expect(seen).toEqual([1, 2])
      })
    })

    describe('shares', () => {
      it('creates, gets, lists newest first and revokes a link once', async () => {
        const { store, session } = await fresh()
        await session('s')
        const first = await store.createShare({ token: 'tok-1', sessionId: 's', expiresAt: null, createdBy: 'dev-1' })
        expect(first).toEqual({
          token: 'tok-1',
          sessionId: 's',
          createdAt: expect.stringMatching(STORED_TIME),
          expiresAt: null,
          revokedAt: null,
          createdBy: 'dev-1',
        })
        const second = await store.createShare({
          token: 'tok-2',
          sessionId: 's',
          expiresAt: '2030-01-01 00:00:00.000000',
          createdBy: null,
        })
        expect(await store.getShare('tok-1')).toEqual(first)
        expect(await store.getShare('nope')).toBeNull()
        expect((await store.listShares('s')).map((s) => s.token)).toEqual(['tok-2', 'tok-1'])
        expect(await store.listShares('other')).toEqual([])

        const revoked = await store.revokeShare('tok-2')
        expect(revoked).toEqual({ ...second, revokedAt: expect.stringMatching(STORED_TIME) })
        const again = await store.revokeShare('tok-2')
        expect(again?.revokedAt).toBe(revoked?.revokedAt)
        expect(await store.revokeShare('nope')).toBeNull()
        expect((await store.listShares('s')).map((s) => [s.token, s.revokedAt !== null])).toEqual([
          ['tok-2', true],
          ['tok-1', false],
        ])
      })

      it('refuses a link to a missing session, and a deleted session takes its links along', async () => {
        const { store, session } = await fresh()
        await expect(
          store.createShare({ token: 't', sessionId: 'missing', expiresAt: null, createdBy: null }),
        ).rejects.toSatisfy(hasCode('SESSION_NOT_FOUND'))
        expect(await store.getShare('t')).toBeNull()
        await session('s')
        await store.createShare({ token: 't', sessionId: 's', expiresAt: null, createdBy: null })
        await store.deleteSession('s')
        expect(await store.getShare('t')).toBeNull()
      })
    })

    describe('maintenance', () => {
      it('counts, lists references and scans sessions by id, one page at a time', async () => {
        const { store, session } = await fresh()
        expect(await store.counts()).toEqual({ sessions: 0, events: 0 })
        for (const id of ['c', 'a', 'e', 'b', 'd']) await session(id)
        await store.appendMany('a', [
          { type: 'system', content: {} },
          { type: 'system', content: {} },
        ])
        await store.append('e', { type: 'system', content: {} })
        expect(await store.counts()).toEqual({ sessions: 5, events: 3 })
        expect((await store.sessionRefs()).sort((x, y) => x.id.localeCompare(y.id))).toEqual(
          ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, workspaceDir: `/data/workspace/${id}` })),
        )
        const first = await store.scanSessions({ limit: 2 })
        expect(first.map((s) => s.id)).toEqual(['a', 'b'])
        const next = await store.scanSessions({ after: 'b', limit: 2 })
        expect(next.map((s) => s.id)).toEqual(['c', 'd'])
        expect((await store.scanSessions({ after: 'd' })).map((s) => s.id)).toEqual(['e'])
        expect(await store.scanSessions({ after: 'e' })).toEqual([])
        expect(first[0]).toEqual(await store.getSession('a'))
      })

      it('finds sessions last changed before a time, oldest first', async () => {
        const { store, session } = await fresh()
        await session('new', { createdAt: '2025-06-01 00:00:00.000000' })
        await session('older', { createdAt: '2024-01-02 00:00:00.000000' })
        await session('oldest', { createdAt: '2024-01-01 00:00:00.000000' })
        await session('touched', { createdAt: '2023-01-01 00:00:00.000000' })
        await store.append('touched', { type: 'system', content: {} })
        expect((await store.sessionsUpdatedBefore('2025-01-01 00:00:00.000000')).map((s) => s.id)).toEqual([
          'oldest',
          'older',
        ])
        expect((await store.sessionsUpdatedBefore('2024-01-02 00:00:00.000000')).map((s) => s.id)).toEqual(['oldest'])
      })

      it('tells which of more than 500 event ids exist', async () => {
        const { store, session } = await fresh()
        await session('a')
        await session('b')
        const stored = [
          ...(await store.appendMany(
            'a',
            range(1, 400).map(() => ({ type: 'system', content: {} })),
          )),
          ...(await store.appendMany(
            'b',
            range(1, 350).map(() => ({ type: 'system', content: {} })),
          )),
        ]
        const known = stored.filter((_, i) => i % 2 === 0).map((e) => e.id)
        const unknown = range(1, 700).map((i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)
        const found = await store.existingEventIds([...unknown.slice(0, 350), ...known, ...unknown.slice(350)])
        expect(found).toEqual(new Set(known))
        expect(await store.existingEventIds([])).toEqual(new Set())
      })

      it('points a session at another folder, refusing one that another session uses', async () => {
        const { store, session } = await fresh()
        await session('a')
        await session('b')
        await store.setWorkspaceDir('a', '/moved/a')
        expect((await store.getSession('a'))?.workspaceDir).toBe('/moved/a')
        await expect(store.setWorkspaceDir('b', '/moved/a')).rejects.toSatisfy(hasCode('SESSION_EXISTS'))
        expect((await store.getSession('b'))?.workspaceDir).toBe('/data/workspace/b')
        await expect(store.setWorkspaceDir('missing', '/x')).rejects.toSatisfy(hasCode('SESSION_NOT_FOUND'))
      })

      it('deletes a session with its events; appending to it afterwards fails', async () => {
        const { store, session } = await fresh()
        await session('d')
        await session('keep')
        await store.appendMany('d', [
          { type: 'user_message', content: { text: 'hi' } },
          { type: 'agent_response', content: { text: 'yo' } },
        ])
        await store.append('keep', { type: 'system', content: {} })
        expect(await store.deleteSession('d')).toEqual({ eventsDeleted: 2 })
        expect(await store.getSession('d')).toBeNull()
        expect(await store.countEvents('d')).toBe(0)
        expect(await store.counts()).toEqual({ sessions: 1, events: 1 })
        await expect(store.deleteSession('d')).rejects.toSatisfy(hasCode('SESSION_NOT_FOUND'))
        await expect(store.append('d', { type: 'system', content: {} })).rejects.toSatisfy(hasCode('SESSION_NOT_FOUND'))
        // A new session under the same id starts at seq 1 again.
        await session('d')
        expect((await store.append('d', { type: 'system', content: {} })).seq).toBe(1)
      })

      describe('mergeSession', () => {
        const base: SessionRecord = {
          id: 'm',
          workspaceDir: '/elsewhere/m',
          createdAt: '2024-05-06 07:08:09.101112',
          deviceId: 'dev-9',
          summary: 'A summary',
          name: 'Imported',
          status: 'idle',
          updatedAt: '2024-05-06 07:09:00.000000',
          label: 'gaia:x',
          runOwner: null,
        }
        const events: StoredEvent[] = [1, 2, 3].map((seq) => ({
          id: `00000000-0000-7000-8000-00000000000${seq}`,
          sessionId: 'm',
          seq,
          timestamp: `2024-05-06 07:08:1${seq}.000001`,
          type: 'user_message',
          // Another store's text, kept as it is even where berth would write it differently.
          payload: `{"type":"user_message","content":{"text":"é ${seq}"}}`,
        }))
        const share = {
          token: 'share-m',
          sessionId: 'm',
          createdAt: '2024-05-06 07:10:00.000000',
          expiresAt: null,
          revokedAt: '2024-05-07 00:00:00.000000',
          createdBy: 'dev-9',
        }

        it('inserts a new session exactly as given, then reports identical, then extends it', async () => {
          const { store } = await fresh()
          const input: SessionTransfer = { session: base, events: events.slice(0, 2), shares: [share] }
          const dry = await store.mergeSession(input, { dryRun: true })
          expect(dry).toMatchObject({ outcome: 'inserted', eventsInserted: 2 })
          expect(await store.getSession('m')).toBeNull()

          expect(await store.mergeSession(input)).toEqual({
            outcome: 'inserted',
            eventsInserted: 2,
            eventsIdentical: 0,
            sharesInserted: 1,
            conflicts: [],
          })
          expect(await store.getSession('m')).toEqual(base)
          expect((await store.readEvents('m')).events).toEqual(events.slice(0, 2))
          expect(await store.getShare('share-m')).toEqual(share)

          expect(await store.mergeSession(input)).toEqual({
            outcome: 'identical',
            eventsInserted: 0,
            eventsIdentical: 2,
            sharesInserted: 0,
            conflicts: [],
          })
          expect(await store.mergeSession({ session: base, events })).toMatchObject({
            outcome: 'extended',
            eventsInserted: 1,
            eventsIdentical: 2,
          })
          expect((await store.readEvents('m')).events).toEqual(events)
          // Appends continue after the merged events.
          expect((await store.append('m', { type: 'system', content: {} })).seq).toBe(4)
        })

        it('reports conflicts and writes nothing', async () => {
          const { store, session } = await fresh()
          await store.mergeSession({ session: base, events: events.slice(0, 1) })
          await store.append('m', { type: 'system', content: { local: true } })
          const changed = { ...events[0], payload: '{"type": "user_message", "content": {"text": "changed"}}' }
          const cases: SessionTransfer[] = [
            // the same event id with other content
            { session: base, events: [changed as StoredEvent, events[2] as StoredEvent] },
            // position 2 holds a local event
            { session: base, events: [events[1] as StoredEvent] },
            // another session under this id
            { session: { ...base, deviceId: 'someone-else' }, events: [events[2] as StoredEvent] },
          ]
          for (const input of cases) {
            const result = await store.mergeSession(input)
            expect(result.outcome).toBe('conflict')
            expect(result.eventsInserted).toBe(0)
            expect(result.conflicts.length).toBeGreaterThan(0)
          }
          expect((await store.readEvents('m')).events.map((e) => e.seq)).toEqual([1, 2])
          expect(await store.counts()).toEqual({ sessions: 1, events: 2 })

          await session('owner')
          const taken = await store.mergeSession({
            session: { ...base, id: 'n', workspaceDir: '/data/workspace/owner' },
            events: [],
          })
          expect(taken.outcome).toBe('conflict')
          expect(taken.conflicts.join(' ')).toContain('owner')
          expect(await store.getSession('n')).toBeNull()
        })
      })

      it('answers ping, integrity and schema state', async () => {
        const { store } = await fresh()
        await expect(store.ping()).resolves.toBeUndefined()
        expect(await store.checkIntegrity()).toEqual(['ok'])
        const state = await store.schemaState()
        expect(state).toMatchObject({ applied: [...MIGRATION_NAMES], pending: [], unknown: [] })
      })

      it('waits for pending appends on close, then refuses everything with STORE_CLOSED', async () => {
        const { store, openAnother, session } = await fresh()
        await session('c')
        const pending = Promise.all(range(1, 20).map((i) => store.append('c', { type: 'system', content: { i } })))
        await store.close()
        expect((await pending).map((e) => e.seq)).toEqual(range(1, 20))
        await store.close()
        const closed = hasCode('STORE_CLOSED')
        await expect(store.getSession('c')).rejects.toSatisfy(closed)
        await expect(store.append('c', { type: 'system', content: {} })).rejects.toSatisfy(closed)
        await expect(store.readEvents('c')).rejects.toSatisfy(closed)
        await expect(store.listSessions('dev-1')).rejects.toSatisfy(closed)
        await expect(store.counts()).rejects.toSatisfy(closed)
        await expect(store.ping()).rejects.toSatisfy(closed)
        expect(() => store.follow('c', 0, () => {})).toThrow(expect.objectContaining({ code: 'STORE_CLOSED' }))
        const reopened = await openAnother()
        expect(await reopened.countEvents('c')).toBe(20)
      })
    })
  })
}

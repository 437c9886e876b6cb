import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import type { Store } from '../../src/store/store.js'
import type { StoreUnderTest } from './store-contract.js'

/**
 * Run leases (`RunLeases` in src/store/store.ts), as every backend must keep
 * them: one owner per run, fenced appends, lapse and takeover. Run per
 * backend next to the store contract suite.
 */
export function describeRunLeases(name: string, openStoreForTest: () => Promise<StoreUnderTest>): void {
  describe(`Run leases: ${name}`, () => {
    const opened: Store[] = []
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close().catch(() => undefined)))
    })

    async function withSession(): Promise<{ store: Store; other: Store; id: string }> {
      const target = await openStoreForTest()
      const other = await target.openAnother()
      opened.push(target.store, other)
      const id = crypto.randomUUID()
      await target.store.createSession({ id, workspaceDir: `/data/workspace/${id}`, deviceId: 'd' })
      return { store: target.store, other, id }
    }

    it('a claim marks the session running under a new epoch, and a live lease refuses a second owner', async () => {
      const { store, other, id } = await withSession()
      const lease = await store.claimRun(id, 'host-a/1', 10_000)
      expect(lease).toMatchObject({ sessionId: id, owner: 'host-a/1', epoch: 1 })
      const session = await store.getSession(id)
      expect(session).toMatchObject({ status: 'running', runOwner: 'host-a/1' })
      expect(await other.claimRun(id, 'host-b/2', 10_000)).toBeNull()
    })

    it('of two instances racing for the same session exactly one wins', async () => {
      const { store, other, id } = await withSession()
      const claims = await Promise.all([
        store.claimRun(id, 'host-a/1', 10_000),
        other.claimRun(id, 'host-b/2', 10_000),
        store.claimRun(id, 'host-a/1', 10_000),
        other.claimRun(id, 'host-b/2', 10_000),
      ])
      expect(claims.filter((claim) => claim !== null)).toHaveLength(1)
    })

    it('a lapsed lease is listed, taken over under a higher epoch, and fences the old owner off', async () => {
      const { store, other, id } = await withSession()
      const old = await store.claimRun(id, 'host-a/1', 30)
      if (old === null) throw new Error('first claim failed')
      await store.append(id, { type: 'system', content: { n: 1 } }, { epoch: old.epoch })
      await sleep(60)
      expect((await other.lapsedRuns()).map((lease) => lease.sessionId)).toEqual([id])
      const taken = await other.claimRun(id, 'host-b/2', 10_000)
      expect(taken?.epoch).toBe(old.epoch + 1)
      expect(await other.lapsedRuns()).toEqual([])

      const stale = store.append(id, { type: 'system', content: { n: 2 } }, { epoch: old.epoch })
      await expect(stale).rejects.toSatisfy((error) => isBerthError(error, 'RUN_LEASE_LOST'))
      expect(await store.renewRun(old, 10_000)).toBe(false)
      expect(await store.endRun(old, 'idle')).toBe(false)
      expect(await other.countEvents(id)).toBe(1)
      expect((await other.getSession(id))?.status).toBe('running')

      await other.append(id, { type: 'system', content: { n: 3 } }, { epoch: taken?.epoch })
      expect(await other.countEvents(id)).toBe(2)
    })

    it('a fenced append fails alone: appends of other sessions in the same commit are stored', async () => {
      const { store, id } = await withSession()
      const second = crypto.randomUUID()
      await store.createSession({ id: second, workspaceDir: `/data/workspace/${second}`, deviceId: 'd' })
      const results = await Promise.allSettled([
        store.append(id, { type: 'system', content: {} }, { epoch: 41 }),
        store.append(second, { type: 'system', content: {} }),
      ])
      expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled'])
      expect(await store.countEvents(id)).toBe(0)
      expect(await store.countEvents(second)).toBe(1)
    })

    it('renewing keeps a lease from lapsing', async () => {
      const { store, id } = await withSession()
      const lease = await store.claimRun(id, 'host-a/1', 80)
      if (lease === null) throw new Error('claim failed')
      for (let i = 0; i < 4; i++) {
        await sleep(40)
        expect(await store.renewRun(lease, 80)).toBe(true)
      }
      expect(await store.lapsedRuns()).toEqual([])
    })

    it('ending a run sets its status and frees the session for the next claim', async () => {
      const { store, other, id } = await withSession()
      const lease = await store.claimRun(id, 'host-a/1', 10_000)
      if (lease === null) throw new Error('claim failed')
      expect(await store.endRun(lease, 'interrupted')).toBe(true)
      expect(await store.getSession(id)).toMatchObject({ status: 'interrupted', runOwner: null })
      expect((await other.claimRun(id, 'host-b/2', 10_000))?.epoch).toBe(lease.epoch + 1)
    })

    it('a claim on a missing session is SESSION_NOT_FOUND', async () => {
      const { store } = await withSession()
      await expect(store.claimRun(crypto.randomUUID(), 'host-a/1', 1000)).rejects.toSatisfy((error) =>
        isBerthError(error, 'SESSION_NOT_FOUND'),
      )
    })
  })
}

import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { keepLease } from '../../src/agent/run-leases.js'
import { createLogger } from '../../src/logging/logger.js'
import type { RunLease } from '../../src/store/types.js'

// A lifetime many renewals long, so a slow event loop on a busy machine does not lapse a healthy lease.
const timing = { ttlMs: 1000, renewMs: 50, checkMs: 50 }
const logger = createLogger({ level: 'silent', terminal: false })

function lease(): RunLease {
  return { sessionId: 's', owner: 'host/1', epoch: 3, expiresAt: Date.now() + timing.ttlMs }
}

/** The keeper against a store whose renewals answer as `renew` says; counts calls and losses. */
function keeper(renew: () => Promise<boolean>) {
  const seen = { calls: 0, lost: 0 }
  const keep = keepLease(
    {
      renewRun: () => {
        seen.calls++
        return renew()
      },
    },
    lease(),
    timing,
    () => seen.lost++,
    logger,
  )
  return { seen, keep }
}

describe('keepLease', () => {
  it('keeps a lease whose renewals are answered, past several lifetimes', async () => {
    const { seen, keep } = keeper(async () => true)
    await sleep(timing.ttlMs * 2)
    keep.stop()
    expect(seen.lost).toBe(0)
    expect(seen.calls).toBeGreaterThan(5)
  })

  it('gives the run up at once when another owner took the session', async () => {
    const { seen, keep } = keeper(async () => false)
    await expect.poll(() => seen.lost, { timeout: timing.ttlMs / 2 }).toBe(1)
    await sleep(timing.renewMs * 3)
    keep.stop()
    expect(seen.lost).toBe(1)
  })

  it('gives it up once the lease expired when the database never answers, asking one renewal at a time', async () => {
    const started = Date.now()
    const { seen, keep } = keeper(() => new Promise<boolean>(() => {}))
    await expect.poll(() => seen.lost, { timeout: timing.ttlMs * 3 }).toBe(1)
    keep.stop()
    expect(Date.now() - started).toBeGreaterThanOrEqual(timing.ttlMs - 5)
    expect(seen.calls).toBe(1)
  })

  it('gives it up once the lease expired while renewals fail, not before', async () => {
    const started = Date.now()
    const { seen, keep } = keeper(async () => {
      throw new Error('connection refused')
    })
    await expect.poll(() => seen.lost, { timeout: timing.ttlMs * 3 }).toBe(1)
    keep.stop()
    expect(Date.now() - started).toBeGreaterThanOrEqual(timing.ttlMs - 5)
    expect(seen.calls).toBeGreaterThan(1)
  })
})

import { isBerthError } from '../core/errors.js'
import type { Logger } from '../logging/logger.js'
import type { Store } from '../store/store.js'
import type { RunLease } from '../store/types.js'

/**
 * How long a run's lease lasts unless renewed, how often its owner renews
 * it, and how often every instance looks for lapsed ones: an owner that
 * dies (SIGKILL, a lost machine) has its run closed by another instance
 * within TTL + CHECK (12 s), under the 15 s the operators were promised.
 */
export const RUN_LEASE_TIMING = { ttlMs: 10_000, renewMs: 3_000, checkMs: 2_000 }
export type RunLeaseTiming = typeof RUN_LEASE_TIMING

/**
 * Keep a run's lease alive while it runs, one renewal at a time. When a
 * renewal finds the lease taken (another instance decided this one was dead)
 * or the lease lapses because renewals kept failing or never answered,
 * `onLost` is called once: the run must stop, and its appends are refused by
 * the store from then on anyway.
 *
 * @example
 *   const keeper = keepLease(store, lease, timing, () => controller.abort(), logger)
 *   ...
 *   keeper.stop()
 */
export function keepLease(
  store: Pick<Store, 'renewRun'>,
  lease: RunLease,
  timing: RunLeaseTiming,
  onLost: () => void,
  logger: Logger,
): { stop(): void } {
  let stopped = false
  let expiresAt = lease.expiresAt
  const lost = (why: string) => {
    if (stopped) return
    stopped = true
    clearInterval(timer)
    logger.warn({ session: lease.sessionId, epoch: lease.epoch }, `the run lost its lease (${why}); stopping it`)
    onLost()
  }
  let renewing = false
  const timer = setInterval(() => {
    // A database that stopped answering (a network cut with no reset) fails no renewal: the clock decides.
    if (Date.now() >= expiresAt) return lost('no renewal was answered before the lease expired')
    if (renewing) return
    renewing = true
    const asked = Date.now()
    store
      .renewRun(lease, timing.ttlMs)
      .then(
        (held) => {
          if (held) expiresAt = asked + timing.ttlMs
          else lost('another owner took the session')
        },
        (error: unknown) => {
          // The database is unreachable for now: the lease still holds until it expires; past that, another
          // instance may take the run over, so this one stops.
          if (Date.now() >= expiresAt) lost(`renewal failed: ${String((error as Error)?.message ?? error)}`)
        },
      )
      .finally(() => {
        renewing = false
      })
  }, timing.renewMs)
  timer.unref()
  return {
    stop() {
      stopped = true
      clearInterval(timer)
    },
  }
}

/**
 * Close the runs whose owner stopped renewing its lease (a process that
 * died, here or on another instance): claim the lease (of several instances
 * doing this at once exactly one wins), store the interrupt (`crashed`) and
 * `stream_complete` under the new epoch, unless the run had stored its end
 * already, then status `interrupted`. Returns how many runs it closed.
 *
 * Sessions left `running` without a lease (an older berth) count as lapsed,
 * except while their owner process is alive on this host.
 *
 * @example
 *   await closeLapsedRuns(store, { owner: RUN_OWNER, timing, isActiveHere: (id) => runs.has(id), ownerAlive, logger })
 */
export async function closeLapsedRuns(
  store: Store,
  options: {
    owner: string
    timing: RunLeaseTiming
    isActiveHere: (sessionId: string) => boolean
    ownerAlive: (owner: string | null) => boolean
    /** A process of this machine that is gone: its runs are taken over without waiting for the lease to lapse. */
    ownerDeadHere: (owner: string | null) => boolean
    logger: Logger
  },
): Promise<number> {
  // Session id → the dead owner to replace (null: the lease lapsed, anyone may claim it).
  const candidates = new Map<string, { previousOwner: string | null; replacing?: string }>()
  for (const lapsed of await store.lapsedRuns()) {
    if (options.isActiveHere(lapsed.sessionId)) continue
    if (lapsed.expiresAt === 0 && options.ownerAlive(lapsed.owner || null)) continue
    candidates.set(lapsed.sessionId, { previousOwner: lapsed.owner || null })
  }
  for (const session of await store.listSessionsWithStatus('running')) {
    if (candidates.has(session.id) || options.isActiveHere(session.id)) continue
    if (session.runOwner !== null && options.ownerDeadHere(session.runOwner)) {
      candidates.set(session.id, { previousOwner: session.runOwner, replacing: session.runOwner })
    }
  }
  let closed = 0
  for (const [sessionId, { previousOwner, replacing }] of candidates) {
    let lease: RunLease | null
    try {
      lease = await store.claimRun(sessionId, options.owner, options.timing.ttlMs, replacing ? { replacing } : {})
    } catch (error) {
      if (isBerthError(error, 'SESSION_NOT_FOUND')) continue
      throw error
    }
    if (lease === null) continue // another instance got there first
    await closeCutOffRun(store, lease)
    if (await store.endRun(lease, 'interrupted')) closed++
    options.logger.warn(
      { session: lease.sessionId, previousOwner },
      'a run was cut off when its owner stopped (crash, kill or lost instance); it is marked interrupted',
    )
  }
  return closed
}

/**
 * Under a lease just taken over: store the interrupt (`crashed`) and
 * `stream_complete` its dead owner could not, unless that owner stored its
 * end before it died. `seq` runs 1..n in every session, so the last event is
 * found without reading the log.
 */
export async function closeCutOffRun(store: Store, lease: RunLease): Promise<void> {
  const count = await store.countEvents(lease.sessionId)
  const last = count === 0 ? null : (await store.readEvents(lease.sessionId, { after: count - 1, limit: 1 })).events[0]
  if (last?.type === 'stream_complete') return
  await store.appendMany(
    lease.sessionId,
    [
      { type: 'agent_response_interrupted', content: { text: '', reason: 'crashed' } },
      { type: 'stream_complete', content: { status: 'interrupted' } },
    ],
    { epoch: lease.epoch },
  )
}

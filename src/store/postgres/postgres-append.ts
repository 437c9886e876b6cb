import type pg from 'pg'
import { BerthError, isBerthError } from '../../core/errors.js'
import { newEventId } from '../../core/ids.js'
import { pythonJsonDumps } from '../../core/python-json.js'
import { dbTimestamp } from '../../core/time.js'
import { sessionNotFound } from '../rows.js'
import type { NewEvent, StoredEvent } from '../types.js'
import { PAYLOAD_SEPARATOR } from './append-function.js'
import { mapPostgresError, pgCode, UNIQUE_VIOLATION } from './postgres-errors.js'

export interface AppendBatch {
  sessionId: string
  events: NewEvent[]
  /** The run lease epoch the writer holds, checked in the transaction that writes the events (append-fence.ts). */
  epoch?: number
}

/**
 * `updated_at` follows appends to within this interval, as on SQLite: it
 * serves pruning (days) and display (seconds).
 */
const TOUCH_INTERVAL_MS = 1000

const APPEND = {
  name: 'berth_append',
  text:
    'SELECT out_session, out_base, out_generation ' +
    'FROM pg_temp.berth_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)',
}

/**
 * How often a batch is tried again after colliding on a `seq` another writer
 * took meanwhile, or after PostgreSQL broke a deadlock by cancelling it (an
 * older berth deleting a session during a rolling deploy locks in another order).
 */
const MAX_ATTEMPTS = 5
const DEADLOCK_DETECTED = '40P01'

/** What this instance knows of a session it wrote, valid while the fence generation stands (append-fence.ts). */
interface KnownSession {
  lastSeq: number
  /** The lease epoch the function last checked for it, if any. */
  epoch: number | undefined
}

/**
 * The group commit's writer on PostgreSQL: every batch submitted together is
 * one statement, `pg_temp.berth_append` (append-function.ts): one
 * transaction with one multi-row INSERT, so one WAL flush and one round trip.
 *
 * Each session's events are numbered after the last `seq` this instance
 * wrote, while nothing fenced appends since (append-fence.ts); otherwise the
 * function reads the last `seq` and checks lease epochs. A batch that
 * collides with another writer's `seq` on the unique (session_id, seq) index
 * is rolled back whole and tried again with fresh numbers.
 */
export interface PostgresAppender {
  write(batches: AppendBatch[]): Promise<StoredEvent[][]>
  /** The session was deleted: its next append reads its numbers and writes `updated_at` again. */
  forget(sessionId: string): void
}

export function createPostgresAppender(pool: pg.Pool, where: string): PostgresAppender {
  /** When this process last wrote each session's `updated_at` (ms). */
  const touchedAt = new Map<string, number>()
  /** Sessions whose last `seq` (and checked epoch) this instance knows, under `generation`. */
  const known = new Map<string, KnownSession>()
  let generation = -1
  /**
   * Items of a batch that failed because the server failed as a whole (down,
   * unreachable). The group commit retries a failed batch item by item, and
   * each retry would wait out the connect timeout again: those retries fail
   * at once with the batch's error. New batches try the server again.
   */
  const failedWithServer = new WeakMap<AppendBatch, unknown>()

  const write = async (batches: AppendBatch[]): Promise<StoredEvent[][]> => {
    const [first] = batches
    if (first !== undefined && batches.every((batch) => failedWithServer.has(batch))) {
      throw failedWithServer.get(first)
    }
    try {
      return await writeBatches(batches)
    } catch (error) {
      if (isBerthError(error, 'DATABASE_UNAVAILABLE')) for (const batch of batches) failedWithServer.set(batch, error)
      throw error
    }
  }

  const writeBatches = async (batches: AppendBatch[]): Promise<StoredEvent[][]> => {
    const nowMs = Date.now()
    const now = dbTimestamp()
    const results = batches.map((batch) =>
      batch.events.map(
        (event): StoredEvent => ({
          id: event.id ?? newEventId(),
          sessionId: batch.sessionId,
          seq: 0,
          timestamp: event.timestamp ?? now,
          type: event.type,
          payload: pythonJsonDumps({ type: event.type, content: event.content }),
        }),
      ),
    )
    const rows = results.flat()
    const counts = new Map<string, number>()
    for (const row of rows) counts.set(row.sessionId, (counts.get(row.sessionId) ?? 0) + 1)
    const sessionIds = [...counts.keys()].sort()
    const checked = batches.filter((batch) => batch.epoch !== undefined)
    const touched = sessionIds.filter((id) => nowMs - (touchedAt.get(id) ?? 0) >= TOUCH_INTERVAL_MS)

    let bases: Map<string, number> | undefined
    for (let attempt = 1; bases === undefined; attempt++) {
      try {
        bases = await commit()
      } catch (error) {
        const collided = isSeqCollision(error)
        if ((!collided && pgCode(error) !== DEADLOCK_DETECTED) || attempt >= MAX_ATTEMPTS) {
          throw appendError(error, batches, where)
        }
        // Another writer took a `seq` this instance counted on: forget what it knew of these sessions, read afresh.
        if (collided) for (const id of sessionIds) known.delete(id)
      }
    }

    for (const id of touched) touchedAt.set(id, nowMs)
    // The server numbered each session's events after its base, in array order: the same numbers here.
    for (const row of rows) {
      const seq = (bases.get(row.sessionId) ?? 0) + 1
      bases.set(row.sessionId, seq)
      row.seq = seq
    }
    const epochs = new Map(checked.map((batch) => [batch.sessionId, batch.epoch]))
    for (const id of sessionIds) {
      const epoch = epochs.has(id) ? epochs.get(id) : known.get(id)?.epoch
      known.set(id, { lastSeq: bases.get(id) ?? 0, epoch })
    }
    return results

    /** One try: the function's answer, each session's base, after taking up the generation it ran under. */
    async function commit(): Promise<Map<string, number>> {
      const answer = await pool.query<{ out_session: string; out_base: number; out_generation: string | null }>({
        ...APPEND,
        values: [
          generation,
          sessionIds,
          sessionIds.map((id) => known.get(id)?.lastSeq ?? -1),
          sessionIds.map((id) => counts.get(id)),
          checked.map((batch) => batch.sessionId),
          checked.map((batch) => batch.epoch),
          checked.map((batch) => known.get(batch.sessionId)?.epoch === batch.epoch),
          rows.map((row) => row.id),
          rows.map((row) => row.sessionId),
          rows.map((row) => row.timestamp),
          rows.map((row) => row.type),
          rows.map((row) => row.payload).join(PAYLOAD_SEPARATOR),
          touched,
          now,
        ],
      })
      const [first] = answer.rows
      const answered =
        first === undefined ? generation : first.out_generation === null ? -1 : Number(first.out_generation)
      if (answered !== generation) {
        // Something fenced appends since: nothing known under the old generation holds.
        known.clear()
        generation = answered
      }
      return new Map(answer.rows.map((row) => [row.out_session, Number(row.out_base)]))
    }
  }

  return {
    write,
    forget: (sessionId) => {
      touchedAt.delete(sessionId)
      known.delete(sessionId)
    },
  }
}

/** The commit numbered a `seq` that another writer's committed row holds (not a repeated event id). */
function isSeqCollision(error: unknown): boolean {
  return pgCode(error) === UNIQUE_VIOLATION && (error as { constraint?: string }).constraint === 'event_session_seq'
}

function leaseLost(batch: AppendBatch, current: number): BerthError {
  return new BerthError(
    'RUN_LEASE_LOST',
    `The run of session ${batch.sessionId} lost its lease (epoch ${batch.epoch}, now ${current}); its events were not stored.`,
    { details: { sessionId: batch.sessionId, epoch: batch.epoch, currentEpoch: current } },
  )
}

/** berth's own SQLSTATEs from append-function.ts, as typed errors; anything else as the server's failure. */
function appendError(error: unknown, batches: AppendBatch[], where: string): unknown {
  const code = pgCode(error)
  const sessionId = (error as Error).message
  if (code === 'BRT01') return sessionNotFound(sessionId)
  if (code === 'BRT02') {
    const batch = batches.find((b) => b.sessionId === sessionId && b.epoch !== undefined) as AppendBatch
    return leaseLost(batch, Number((error as { detail?: string }).detail))
  }
  return mapPostgresError(error, where)
}

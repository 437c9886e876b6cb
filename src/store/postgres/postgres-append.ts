import type pg from 'pg'
import { BerthError, isBerthError } from '../../core/errors.js'
import { newEventId } from '../../core/ids.js'
import { pythonJsonDumps } from '../../core/python-json.js'
import { dbTimestamp } from '../../core/time.js'
import { sessionNotFound } from '../rows.js'
import type { NewEvent, StoredEvent } from '../types.js'
import { mapPostgresError, pgCode } from './postgres-errors.js'

export interface AppendBatch {
  sessionId: string
  events: NewEvent[]
  /** The run lease epoch the writer holds, checked under the same lock that numbers the events. */
  epoch?: number
}

/**
 * `updated_at` follows appends to within this interval, as on SQLite: it
 * serves pruning (days) and display (seconds).
 */
const TOUCH_INTERVAL_MS = 1000

const APPEND = {
  name: 'berth_append',
  text: 'SELECT out_session, out_base FROM pg_temp.berth_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
}

/**
 * The group commit's writer on PostgreSQL: every batch submitted together is
 * one statement, `pg_temp.berth_append` (append-function.ts): one
 * transaction with one multi-row INSERT, so one WAL flush and one round trip.
 *
 * `seq` is numbered under a lock on the batch's session rows, taken in id
 * order (so two instances appending to the same sessions queue instead of
 * deadlocking), and the last `seq` is read after the lock is held, so it
 * sees what any other instance committed before. Lease epochs are checked
 * under the same lock. The unique (session_id, seq) index stays the backstop.
 */
export interface PostgresAppender {
  write(batches: AppendBatch[]): Promise<StoredEvent[][]>
  /** The session was deleted: its next append writes `updated_at` again. */
  forget(sessionId: string): void
}

export function createPostgresAppender(pool: pg.Pool, where: string): PostgresAppender {
  /** When this process last wrote each session's `updated_at` (ms). */
  const touchedAt = new Map<string, number>()
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
    const sessionIds = [...new Set(batches.map((batch) => batch.sessionId))].sort()
    const checked = batches.filter((batch) => batch.epoch !== undefined)
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
    const touched = sessionIds.filter((id) => nowMs - (touchedAt.get(id) ?? 0) >= TOUCH_INTERVAL_MS)
    let bases: { out_session: string; out_base: number }[]
    try {
      const answer = await pool.query<{ out_session: string; out_base: number }>({
        ...APPEND,
        values: [
          sessionIds,
          checked.map((batch) => batch.sessionId),
          checked.map((batch) => batch.epoch),
          rows.map((row) => row.id),
          rows.map((row) => row.sessionId),
          rows.map((row) => row.timestamp),
          rows.map((row) => row.type),
          rows.map((row) => row.payload),
          touched,
          now,
        ],
      })
      bases = answer.rows
    } catch (error) {
      throw appendError(error, batches, where)
    }
    for (const id of touched) touchedAt.set(id, nowMs)
    // The server numbered each session's events after its last seq, in array order: the same numbers here.
    const next = new Map(bases.map((row) => [row.out_session, Number(row.out_base)]))
    for (const row of rows) {
      const seq = (next.get(row.sessionId) ?? 0) + 1
      next.set(row.sessionId, seq)
      row.seq = seq
    }
    return results
  }

  return {
    write,
    forget: (sessionId) => {
      touchedAt.delete(sessionId)
    },
  }
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

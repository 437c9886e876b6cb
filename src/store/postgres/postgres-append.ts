import type pg from 'pg'
import { BerthError } from '../../core/errors.js'
import { newEventId } from '../../core/ids.js'
import { pythonJsonDumps } from '../../core/python-json.js'
import { dbTimestamp } from '../../core/time.js'
import type { NewEvent, StoredEvent } from '../types.js'
import { mapPostgresError } from './postgres-errors.js'
import { sessionNotFound } from './rows.js'

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

// Named statements: parsed once per connection.
const LOCK_SESSIONS = {
  name: 'berth_append_lock',
  text: 'SELECT id, run_epoch FROM session WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE',
}
const LAST_SEQ = {
  name: 'berth_append_last_seq',
  text: 'SELECT s.id, (SELECT max(e.seq) FROM event e WHERE e.session_id = s.id) AS last FROM unnest($1::text[]) AS s(id)',
}
const INSERT_EVENTS = {
  name: 'berth_append_insert',
  text:
    'INSERT INTO event (id, session_id, timestamp, event_type, event_payload, seq) ' +
    'SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[])',
}
const TOUCH = { name: 'berth_append_touch', text: 'UPDATE session SET updated_at = $1 WHERE id = ANY($2::text[])' }

/**
 * The group commit's writer on PostgreSQL: every batch submitted together is
 * one transaction with one multi-row INSERT, so one WAL flush.
 *
 * `seq` is numbered under a lock on the batch's session rows, taken in id
 * order (so two instances appending to the same sessions queue instead of
 * deadlocking), and the last `seq` is read after the lock is held, so it
 * sees what any other instance committed before. The unique
 * (session_id, seq) index stays the backstop.
 */
export interface PostgresAppender {
  write(batches: AppendBatch[]): Promise<StoredEvent[][]>
  /** The session was deleted: its next append writes `updated_at` again. */
  forget(sessionId: string): void
}

export function createPostgresAppender(pool: pg.Pool, where: string): PostgresAppender {
  /** When this process last wrote each session's `updated_at` (ms). */
  const touchedAt = new Map<string, number>()

  const write = async (batches: AppendBatch[]): Promise<StoredEvent[][]> => {
    const sessionIds = [...new Set(batches.map((batch) => batch.sessionId))].sort()
    const nowMs = Date.now()
    const now = dbTimestamp()
    let client: pg.PoolClient
    try {
      client = await pool.connect()
    } catch (error) {
      throw mapPostgresError(error, where)
    }
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      const locked = await client.query<{ id: string; run_epoch: string }>({ ...LOCK_SESSIONS, values: [sessionIds] })
      // The locked rows are the latest versions: a claim that committed meanwhile shows its epoch here.
      const epochs = new Map(locked.rows.map((row) => [row.id, Number(row.run_epoch)]))
      for (const batch of batches) {
        const current = epochs.get(batch.sessionId)
        if (current === undefined) throw sessionNotFound(batch.sessionId)
        if (batch.epoch !== undefined && batch.epoch !== current) throw leaseLost(batch, current)
      }
      const last = await client.query<{ id: string; last: number | null }>({ ...LAST_SEQ, values: [sessionIds] })
      const next = new Map(last.rows.map((row) => [row.id, Number(row.last ?? 0)]))

      const columns: [string[], string[], string[], string[], string[], number[]] = [[], [], [], [], [], []]
      const results = batches.map((batch) =>
        batch.events.map((event) => {
          const seq = (next.get(batch.sessionId) ?? 0) + 1
          next.set(batch.sessionId, seq)
          const row: StoredEvent = {
            id: event.id ?? newEventId(),
            sessionId: batch.sessionId,
            seq,
            timestamp: event.timestamp ?? now,
            type: event.type,
            payload: pythonJsonDumps({ type: event.type, content: event.content }),
          }
          columns[0].push(row.id)
          columns[1].push(row.sessionId)
          columns[2].push(row.timestamp as string)
          columns[3].push(row.type)
          columns[4].push(row.payload)
          columns[5].push(row.seq)
          return row
        }),
      )
      await client.query({ ...INSERT_EVENTS, values: columns })
      const touched = sessionIds.filter((id) => nowMs - (touchedAt.get(id) ?? 0) >= TOUCH_INTERVAL_MS)
      if (touched.length > 0) await client.query({ ...TOUCH, values: [now, touched] })
      await client.query('COMMIT')
      for (const id of touched) touchedAt.set(id, nowMs)
      return results
    } catch (error) {
      try {
        await client.query('ROLLBACK')
      } catch (rollbackError) {
        broken = rollbackError as Error
      }
      throw mapPostgresError(error, where)
    } finally {
      // A connection that could not even roll back is dropped, not reused.
      client.release(broken)
    }
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

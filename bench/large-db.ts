import { join } from 'node:path'
import Database from 'better-sqlite3'
import { newEventId } from '../src/core/ids.js'
import { pythonJsonDumps } from '../src/core/python-json.js'
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js'

export const BIG_SESSION = 's000000'
export const BIG_SESSION_DEVICE = 'big-device'
export const BIG_SESSION_EVENTS = 10_000

export const toolPayload = (i: number) => ({
  tool_call_id: `call_${i}`,
  tool_name: 'bash',
  result: `line ${i} `.repeat(20),
})

/**
 * A benchmark database in the store's real schema: `sessions` sessions over
 * 100 devices (`device-<n>`), `eventsPerSession` events each, and one session
 * (`s000000`, device `big-device`) with 10,000 events. Rows go in with raw
 * inserts in one transaction (generation is not what is measured).
 */
export async function generateLargeDb(
  dir: string,
  sessions: number,
  eventsPerSession: number,
): Promise<{ file: string; events: number; seconds: number }> {
  const file = join(dir, 'events.db')
  const start = performance.now()
  await (await SqliteStore.open({ file })).close()
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = OFF')
  const insertSession = db.prepare(
    "INSERT INTO session (id, workspace_dir, created_at, device_id, status, updated_at) VALUES (?, ?, ?, ?, 'idle', ?)",
  )
  const insertEvent = db.prepare(
    'INSERT INTO event (id, session_id, timestamp, event_type, event_payload, seq) VALUES (?, ?, ?, ?, ?, ?)',
  )
  let events = 0
  db.transaction(() => {
    for (let s = 0; s < sessions; s++) {
      const id = `s${String(s).padStart(6, '0')}`
      const created = new Date(Date.UTC(2025, 0, 1) + s * 60_000).toISOString().replace('T', ' ').replace('Z', '000')
      insertSession.run(
        id,
        join(dir, 'workspace', id),
        created,
        s === 0 ? BIG_SESSION_DEVICE : `device-${s % 100}`,
        created,
      )
      const count = s === 0 ? BIG_SESSION_EVENTS : eventsPerSession
      for (let e = 1; e <= count; e++) {
        const type = e === 1 || e % 10 === 0 ? 'user_message' : 'tool_result'
        const content = type === 'user_message' ? { text: `message ${e} of ${id}` } : toolPayload(e)
        insertEvent.run(newEventId(), id, created, type, pythonJsonDumps({ type, content }), e)
        events++
      }
    }
  })()
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  return { file, events, seconds: (performance.now() - start) / 1000 }
}

/** A naive UTC timestamp as the reference system stores it: `YYYY-MM-DD HH:MM:SS.ffffff`. */
const referenceTime = (ms: number, micros: number) =>
  `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}.${String((ms % 1000) * 1000 + micros).padStart(6, '0')}`

/**
 * An `events.db` as the reference ii-agent writes it: its DDL only (no berth
 * columns, no index on `event`), uuid4 ids, Python json.dumps payloads, naive
 * UTC timestamps with 6 fractional digits. Sessions run 8 at a time, so the
 * events of concurrent sessions interleave in the table as they do in use.
 * One in 50 sessions has no `created_at`, one in 100 has no events.
 */
export function generateReferenceDb(
  file: string,
  sessions: number,
  eventsPerSession: number,
  ddl: string,
): { events: number; seconds: number } {
  const start = performance.now()
  const db = new Database(file)
  db.pragma('journal_mode = DELETE')
  db.pragma('synchronous = OFF')
  db.exec(ddl)
  const insertSession = db.prepare(
    'INSERT INTO session (id, workspace_dir, created_at, device_id, summary) VALUES (?, ?, ?, ?, ?)',
  )
  const insertEvent = db.prepare(
    'INSERT INTO event (id, session_id, timestamp, event_type, event_payload) VALUES (?, ?, ?, ?, ?)',
  )
  const CONCURRENT = 8
  let events = 0
  db.transaction(() => {
    for (let first = 0; first < sessions; first += CONCURRENT) {
      const group = Array.from({ length: Math.min(CONCURRENT, sessions - first) }, (_, i) => {
        const s = first + i
        const id = crypto.randomUUID()
        const createdMs = Date.UTC(2025, 0, 1) + s * 60_000
        insertSession.run(
          id,
          `/app/workspace/${id}`,
          s % 50 === 7 ? null : referenceTime(createdMs, s % 1000),
          `device-${s % 100}`,
          s % 3 === 0 ? `Session ${s}` : null,
        )
        // The events of a session without any go to the next one, so the total stays sessions × eventsPerSession.
        const count = s % 100 === 42 ? 0 : s % 100 === 43 ? 2 * eventsPerSession : eventsPerSession
        return { id, createdMs, count }
      })
      for (let e = 0; e < 2 * eventsPerSession; e++) {
        for (const session of group) {
          if (e >= session.count) continue
          const type = e % 10 === 0 ? 'user_message' : 'tool_result'
          const content = type === 'user_message' ? { text: `message ${e}`, files: [] } : toolPayload(e)
          // Two events in a row share a timestamp now and then: ties are ordered by insertion.
          const ms = session.createdMs + 1000 + Math.floor(e / 2) * 250
          insertEvent.run(
            crypto.randomUUID(),
            session.id,
            referenceTime(ms, 0),
            type,
            pythonJsonDumps({ type, content }),
          )
          events++
        }
      }
    }
  })()
  db.close()
  return { events, seconds: (performance.now() - start) / 1000 }
}

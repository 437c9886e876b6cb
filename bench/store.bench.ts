/**
 * bench:store — durable append throughput, session listing and event reads on
 * the real SQLite store (WAL, synchronous=FULL), with raw better-sqlite3 in one
 * big transaction measured in the same run as the ceiling.
 *
 *   npm run bench:store            (BENCH_SESSIONS / BENCH_EVENTS_PER_SESSION to resize)
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { newId } from '../src/core/ids.js'
import { pythonJsonDumps } from '../src/core/python-json.js'
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js'
import { fmt, median, percentile, timeRuns } from './stats.js'

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000)
const EVENTS_PER_SESSION = Number(process.env.BENCH_EVENTS_PER_SESSION ?? 100)
const BIG_SESSION_EVENTS = 10_000

const dir = await mkdtemp(join(tmpdir(), 'berth-bench-store-'))
const payload = (i: number) => ({ tool_call_id: `call_${i}`, tool_name: 'bash', result: `line ${i} `.repeat(20) })

try {
  console.log(`bench:store  (SQLite WAL, synchronous=FULL, ${dir})\n`)

  // 1. Durable appends: one sequential writer, then 50 concurrent sessions.
  {
    const store = await SqliteStore.open({ file: join(dir, 'appends.db') })
    await store.createSession({ id: 'seq', workspaceDir: '/w/seq', deviceId: 'bench' })
    const n = 3000
    let start = performance.now()
    for (let i = 0; i < n; i++) await store.append('seq', { type: 'tool_result', content: payload(i) })
    const sequential = n / ((performance.now() - start) / 1000)

    const writers = 50
    const perWriter = 2000
    for (let w = 0; w < writers; w++) await store.createSession({ id: `w${w}`, workspaceDir: `/w/w${w}`, deviceId: 'bench' })
    start = performance.now()
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) await store.append(`w${w}`, { type: 'tool_result', content: payload(i) })
      }),
    )
    const concurrent = (writers * perWriter) / ((performance.now() - start) / 1000)
    await store.close()

    // Ceiling: raw better-sqlite3, the same rows in one big transaction.
    const raw = new Database(join(dir, 'raw.db'))
    raw.pragma('journal_mode = WAL')
    raw.pragma('synchronous = FULL')
    raw.exec('CREATE TABLE event (id TEXT PRIMARY KEY, session_id TEXT, seq INTEGER, timestamp TEXT, event_type TEXT, event_payload TEXT)')
    const insert = raw.prepare('INSERT INTO event VALUES (?, ?, ?, ?, ?, ?)')
    const rows = writers * perWriter
    start = performance.now()
    raw.transaction(() => {
      for (let i = 0; i < rows; i++) {
        insert.run(newId(), `w${i % writers}`, i, '2025-01-01 00:00:00.000000', 'tool_result', pythonJsonDumps({ type: 'tool_result', content: payload(i) }))
      }
    })()
    const ceiling = rows / ((performance.now() - start) / 1000)
    raw.close()

    console.log('Durable appends (each acknowledged only after its commit + fsync)')
    console.log(`  1 sequential writer           ${fmt(sequential, 0).padStart(12)} events/s`)
    console.log(`  ${writers} concurrent sessions        ${fmt(concurrent, 0).padStart(12)} events/s   (target >= 50,000)`)
    console.log(`  raw better-sqlite3, 1 txn     ${fmt(ceiling, 0).padStart(12)} rows/s     (ceiling; ${fmt(concurrent / ceiling, 2)}x of it)`)
    console.log()
  }

  // 2. A large database: SESSIONS sessions, SESSIONS * EVENTS_PER_SESSION events, one session with 10,000 events.
  {
    const file = join(dir, 'large.db')
    const store = await SqliteStore.open({ file })
    await store.close()
    const db = new Database(file)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = OFF') // generation only; measurements below run on the store
    const insertSession = db.prepare(
      "INSERT INTO session (id, workspace_dir, created_at, device_id, status, updated_at) VALUES (?, ?, ?, ?, 'idle', ?)",
    )
    const insertEvent = db.prepare(
      'INSERT INTO event (id, session_id, timestamp, event_type, event_payload, seq) VALUES (?, ?, ?, ?, ?, ?)',
    )
    let start = performance.now()
    const devices = 100
    db.transaction(() => {
      for (let s = 0; s < SESSIONS; s++) {
        const id = `s${String(s).padStart(6, '0')}`
        const created = new Date(Date.UTC(2025, 0, 1) + s * 60_000).toISOString().replace('T', ' ').replace('Z', '000')
        insertSession.run(id, `/var/data/workspace/${id}`, created, s === 0 ? 'big-device' : `device-${s % devices}`, created)
        const count = s === 0 ? BIG_SESSION_EVENTS : EVENTS_PER_SESSION
        for (let e = 1; e <= count; e++) {
          const type = e === 1 || e % 10 === 0 ? 'user_message' : 'tool_result'
          const content = type === 'user_message' ? { text: `message ${e} of ${id}` } : payload(e)
          insertEvent.run(newId(), id, created, type, pythonJsonDumps({ type, content }), e)
        }
      }
    })()
    db.close()
    const totalEvents = (SESSIONS - 1) * EVENTS_PER_SESSION + BIG_SESSION_EVENTS
    console.log(`Generated ${fmt(SESSIONS, 0)} sessions and ${fmt(totalEvents, 0)} events in ${fmt((performance.now() - start) / 1000, 1)} s`)

    const opened = await SqliteStore.open({ file })
    const device = 'device-7'
    const perDevice = Math.ceil(SESSIONS / devices)
    const list = await timeRuns(200, () => opened.listSessions(device, { limit: 50 }))
    const page = await opened.listSessions(device, { limit: 50 })
    const first = page.items[0]
    const readAll = await timeRuns(30, () => opened.readEvents('s000000', { limit: BIG_SESSION_EVENTS }))
    const check = await opened.readEvents('s000000', { limit: BIG_SESSION_EVENTS })
    await opened.close()

    console.log(`  list newest 50 of a device's ~${perDevice} sessions  median ${fmt(median(list))} ms  p99 ${fmt(percentile(list, 99))} ms  (target < 10 ms; ${page.items.length} rows, first message "${first?.firstMessage}")`)
    console.log(`  read all ${fmt(check.events.length, 0)} events of one session     median ${fmt(median(readAll))} ms  p99 ${fmt(percentile(readAll, 99))} ms  (target < 100 ms)`)

    start = performance.now()
    const raw = new Database(file, { readonly: true })
    const rawRead = await timeRuns(30, () =>
      raw.prepare('SELECT * FROM event WHERE session_id = ? ORDER BY seq').all('s000000'),
    )
    raw.close()
    console.log(`  raw better-sqlite3 read of the same 10,000 events  median ${fmt(median(rawRead))} ms  (ceiling)`)
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}

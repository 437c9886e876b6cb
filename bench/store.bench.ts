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
import { newEventId } from '../src/core/ids.js'
import { pythonJsonDumps } from '../src/core/python-json.js'
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js'
import { BIG_SESSION, BIG_SESSION_EVENTS, generateLargeDb, toolPayload as payload } from './large-db.js'
import { fmt, median, percentile, timeRuns } from './stats.js'

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000)
const EVENTS_PER_SESSION = Number(process.env.BENCH_EVENTS_PER_SESSION ?? 100)

const dir = await mkdtemp(join(tmpdir(), 'berth-bench-store-'))

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
    for (let w = 0; w < writers; w++)
      await store.createSession({ id: `w${w}`, workspaceDir: `/w/w${w}`, deviceId: 'bench' })
    start = performance.now()
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) await store.append(`w${w}`, { type: 'tool_result', content: payload(i) })
      }),
    )
    const concurrent = (writers * perWriter) / ((performance.now() - start) / 1000)
    await store.close()

    // Ceilings: raw better-sqlite3 on the store's own schema (same table and
    // indexes) with rows built beforehand: all in one big transaction, then in
    // commits of one row per session, the shape 50 concurrent writers produce.
    const rawFile = join(dir, 'raw.db')
    await (await SqliteStore.open({ file: rawFile })).close()
    const raw = new Database(rawFile)
    raw.pragma('journal_mode = WAL')
    raw.pragma('synchronous = FULL')
    raw.pragma('foreign_keys = OFF')
    const insert = raw.prepare(
      'INSERT INTO event (id, session_id, timestamp, event_type, event_payload, seq) VALUES (?, ?, ?, ?, ?, ?)',
    )
    const rowsFor = (prefix: string) =>
      Array.from({ length: writers * perWriter }, (_, i) => [
        newEventId(),
        `${prefix}-${i % writers}`,
        '2025-01-01 00:00:00.000000',
        'tool_result',
        pythonJsonDumps({ type: 'tool_result', content: payload(i) }),
        Math.floor(i / writers) + 1,
      ])
    const insertAll = raw.transaction((rows: unknown[][]) => {
      for (const row of rows) insert.run(...row)
    })
    let rows = rowsFor('one-txn')
    start = performance.now()
    insertAll(rows)
    const ceiling = rows.length / ((performance.now() - start) / 1000)
    rows = rowsFor('per-round')
    start = performance.now()
    for (let i = 0; i < rows.length; i += writers) insertAll.immediate(rows.slice(i, i + writers))
    const roundCeiling = rows.length / ((performance.now() - start) / 1000)
    raw.close()

    console.log('Durable appends (each acknowledged only after its commit + fsync)')
    console.log(`  1 sequential writer           ${fmt(sequential, 0).padStart(12)} events/s`)
    console.log(
      `  ${writers} concurrent sessions        ${fmt(concurrent, 0).padStart(12)} events/s   (target >= 50,000)`,
    )
    console.log(`  raw better-sqlite3, 1 txn     ${fmt(ceiling, 0).padStart(12)} rows/s     (ceiling)`)
    console.log(
      `  raw, ${writers}-row commits           ${fmt(roundCeiling, 0).padStart(12)} rows/s     (ceiling for this shape; berth at ${fmt(concurrent / roundCeiling, 2)}x of it)`,
    )
    console.log()
  }

  // 2. A large database: SESSIONS sessions, SESSIONS * EVENTS_PER_SESSION events, one session with 10,000 events.
  {
    const generated = await generateLargeDb(dir, SESSIONS, EVENTS_PER_SESSION)
    console.log(
      `Generated ${fmt(SESSIONS, 0)} sessions and ${fmt(generated.events, 0)} events in ${fmt(generated.seconds, 1)} s`,
    )

    const opened = await SqliteStore.open({ file: generated.file })
    const device = 'device-7'
    const list = await timeRuns(200, () => opened.listSessions(device, { limit: 50 }))
    const page = await opened.listSessions(device, { limit: 50 })
    const readAll = await timeRuns(30, () => opened.readEvents(BIG_SESSION, { limit: BIG_SESSION_EVENTS }))
    const check = await opened.readEvents(BIG_SESSION, { limit: BIG_SESSION_EVENTS })
    await opened.close()

    console.log(
      `  list newest 50 of a device's sessions      median ${fmt(median(list))} ms  p99 ${fmt(percentile(list, 99))} ms  (target < 10 ms; ${page.items.length} rows)`,
    )
    console.log(
      `  read all ${fmt(check.events.length, 0)} events of one session     median ${fmt(median(readAll))} ms  p99 ${fmt(percentile(readAll, 99))} ms  (target < 100 ms)`,
    )

    const raw = new Database(generated.file, { readonly: true })
    const statement = raw.prepare('SELECT * FROM event WHERE session_id = ? ORDER BY seq')
    const rawRead = await timeRuns(30, () => statement.all(BIG_SESSION))
    raw.close()
    console.log(`  raw better-sqlite3 read of the same events  median ${fmt(median(rawRead))} ms  (ceiling)`)
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}

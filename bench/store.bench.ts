/**
 * bench:store — durable append throughput, session listing and event reads on
 * the real SQLite store (WAL, synchronous=FULL), with raw better-sqlite3
 * measured in the same run as the ceiling. Appends are measured in rounds
 * (medians printed): on this VM one round can differ from the next by 10%.
 *
 *   npm run bench:store            (BENCH_SESSIONS / BENCH_EVENTS_PER_SESSION to resize, BENCH_ROUNDS=5)
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
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

const dir = await mkdtemp(join(tmpdir(), 'berth-bench-store-'))

try {
  console.log(`bench:store  (SQLite WAL, synchronous=FULL, ${dir})\n`)

  // 1. Durable appends: one sequential writer, then 50 concurrent sessions, in ROUNDS rounds that
  //    each also measure the raw ceilings, so every ratio compares numbers taken side by side.
  {
    const writers = 50
    const perWriter = 2000
    const rounds: {
      sequential: number
      concurrent: number
      ceiling: number
      roundCeiling: number
      withoutSessionIndex: number
    }[] = []
    for (let round = 1; round <= ROUNDS; round++) {
      const store = await SqliteStore.open({ file: join(dir, `appends-${round}.db`) })
      await store.createSession({ id: 'seq', workspaceDir: '/w/seq', deviceId: 'bench' })
      const n = 3000
      let start = performance.now()
      for (let i = 0; i < n; i++) await store.append('seq', { type: 'tool_result', content: payload(i) })
      const sequential = n / ((performance.now() - start) / 1000)

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
      rounds.push({ sequential, concurrent, ...(await rawCeilings(join(dir, `raw-${round}.db`), writers, perWriter)) })
      const last = rounds[rounds.length - 1] as (typeof rounds)[number]
      console.log(
        `  round ${round}: 50 sessions ${fmt(concurrent, 0)} events/s, raw 50-row commits ${fmt(last.roundCeiling, 0)} rows/s`,
      )
    }
    const mid = (pick: (round: (typeof rounds)[number]) => number) => median(rounds.map(pick))

    console.log(`\nDurable appends (each acknowledged only after its commit + fsync), median of ${ROUNDS} rounds`)
    console.log(
      `  1 sequential writer           ${fmt(
        mid((r) => r.sequential),
        0,
      ).padStart(12)} events/s`,
    )
    console.log(
      `  ${writers} concurrent sessions        ${fmt(
        mid((r) => r.concurrent),
        0,
      ).padStart(12)} events/s   (target >= 50,000)`,
    )
    console.log(
      `  raw better-sqlite3, 1 txn     ${fmt(
        mid((r) => r.ceiling),
        0,
      ).padStart(12)} rows/s     (ceiling)`,
    )
    console.log(
      `  raw, ${writers}-row commits           ${fmt(
        mid((r) => r.roundCeiling),
        0,
      ).padStart(12)} rows/s     (ceiling for this shape; berth at ${fmt(
        mid((r) => r.concurrent / r.roundCeiling),
        2,
      )}x of it)`,
    )
    console.log(
      `  raw, ${writers}-row commits, no index ${fmt(
        mid((r) => r.withoutSessionIndex),
        0,
      ).padStart(12)} rows/s     (the same without the (session_id, seq) index reads need: what it costs)`,
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

/**
 * Raw better-sqlite3 on the store's own schema (same table and indexes), rows
 * built beforehand: all in one big transaction, then in commits of one row per
 * session, the shape that 50 concurrent writers produce, then that shape again
 * without the (session_id, seq) index: each such commit dirties one index page
 * per session, which is where most of its cost lies.
 */
async function rawCeilings(
  file: string,
  writers: number,
  perWriter: number,
): Promise<{ ceiling: number; roundCeiling: number; withoutSessionIndex: number }> {
  await (await SqliteStore.open({ file })).close() // the store's real schema, migrations and all
  const raw = new Database(file)
  try {
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
    const oneTxnRows = rowsFor('one-txn')
    const oneTxnStart = performance.now()
    insertAll(oneTxnRows)
    const ceiling = oneTxnRows.length / ((performance.now() - oneTxnStart) / 1000)
    const commitsOfOneRowPerSession = (prefix: string) => {
      const rows = rowsFor(prefix)
      const start = performance.now()
      for (let i = 0; i < rows.length; i += writers) insertAll.immediate(rows.slice(i, i + writers))
      return rows.length / ((performance.now() - start) / 1000)
    }
    const roundCeiling = commitsOfOneRowPerSession('per-round')
    raw.exec('DROP INDEX event_session_seq')
    return { ceiling, roundCeiling, withoutSessionIndex: commitsOfOneRowPerSession('no-index') }
  } finally {
    raw.close()
  }
}

/**
 * bench:scale — berth on PostgreSQL, for several instances on one database.
 *
 * Durable appends: 50 writers, each appending one event at a time and
 * waiting for it, through PostgresStore, against raw `pg` doing the same
 * commits (the same group commit: whatever was queued while the previous
 * batch was in flight, one transaction and one multi-row INSERT per batch)
 * without berth's work (seq under a row lock, lease epochs, updated_at,
 * Python-style JSON). Both run in each round on the same server, in
 * alternating order; medians of the rounds are printed, and the ratio.
 *
 * The server is a throwaway PostgreSQL 15 cluster (test/helpers/postgres.ts)
 * with fsync and synchronous_commit ON, as in production.
 *
 *   npm run bench:scale          (BENCH_ROUNDS=5, BENCH_WRITERS=50, BENCH_APPENDS=200 per writer)
 */
import pg from 'pg'
import { newEventId } from '../src/core/ids.js'
import { pythonJsonDumps } from '../src/core/python-json.js'
import { dbTimestamp } from '../src/core/time.js'
import { GroupCommitter } from '../src/store/group-commit.js'
import { PostgresStore } from '../src/store/postgres/postgres-store.js'
import { startPostgresCluster } from '../test/helpers/postgres.js'
import { toolPayload as payload } from './large-db.js'
import { fmt, median } from './stats.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const WRITERS = Number(process.env.BENCH_WRITERS ?? 50)
const APPENDS = Number(process.env.BENCH_APPENDS ?? 200)

/** One row of the printed table; fan-out and takeover rows go here too when they are measured. */
interface Row {
  what: string
  value: string
  target: string
}

const cluster = await startPostgresCluster(undefined, { durable: true })
const rows: Row[] = []
try {
  const admin = new pg.Client({ connectionString: cluster.url() })
  await admin.connect()
  const settings = await admin.query<{ fsync: string; sync: string }>(
    "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync",
  )
  await admin.end()
  console.log(
    `bench:scale  (PostgreSQL 15 on 127.0.0.1, fsync=${settings.rows[0]?.fsync}, synchronous_commit=${settings.rows[0]?.sync})\n`,
  )

  const store: number[] = []
  const raw: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const url = await cluster.createDatabase()
    // Alternate which goes first, so neither always gets the warmer server.
    const order = round % 2 === 1 ? ['store', 'raw'] : ['raw', 'store']
    const result: Record<string, number> = {}
    for (const which of order) result[which] = which === 'store' ? await storeAppends(url) : await rawAppends(url)
    store.push(result.store as number)
    raw.push(result.raw as number)
    console.log(
      `  round ${round}: PostgresStore ${fmt(result.store as number, 0)} events/s, raw pg ${fmt(result.raw as number, 0)} rows/s`,
    )
  }
  // Each round's two numbers were taken side by side: the ratio is taken per round, then its median.
  const ratio = median(store.map((value, i) => value / (raw[i] as number)))
  rows.push(
    {
      what: `Durable appends, ${WRITERS} writers, PostgresStore`,
      value: `${fmt(median(store), 0)} events/s`,
      target: '',
    },
    { what: `Durable appends, ${WRITERS} writers, raw pg`, value: `${fmt(median(raw), 0)} rows/s`, target: '' },
    { what: 'PostgresStore / raw pg (median of per-round ratios)', value: `${fmt(ratio, 2)}x`, target: '>= 0.8x' },
  )

  console.log(`\nMedians of ${ROUNDS} rounds`)
  for (const row of rows) {
    console.log(`  ${row.what.padEnd(52)} ${row.value.padStart(16)}   ${row.target ? `(target ${row.target})` : ''}`)
  }
} finally {
  await cluster.stop()
}

/** 50 writers, each on its own session, each append awaited before the next. Returns events/s. */
async function storeAppends(url: string): Promise<number> {
  const store = await PostgresStore.open({ url, poolSize: 4 })
  try {
    for (let w = 0; w < WRITERS; w++) {
      await store.createSession({ id: `w${w}`, workspaceDir: `/w/w${w}`, deviceId: 'bench' })
    }
    const start = performance.now()
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; i < APPENDS; i++) await store.append(`w${w}`, { type: 'tool_result', content: payload(i) })
      }),
    )
    const rate = (WRITERS * APPENDS) / ((performance.now() - start) / 1000)
    if ((await store.counts()).events !== WRITERS * APPENDS) throw new Error('PostgresStore lost appends')
    return rate
  } finally {
    await store.close()
  }
}

interface RawRow {
  id: string
  sessionId: string
  seq: number
  timestamp: string
  type: string
  payload: string
}

/**
 * The same commits without berth: the rows are made before the clock starts
 * (ids, payload text), seq is counted in memory, and each batch is BEGIN,
 * one multi-row INSERT, COMMIT on one connection.
 */
async function rawAppends(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(
      `CREATE TABLE raw_event (id varchar(36) PRIMARY KEY, session_id varchar(36) NOT NULL, timestamp text,
       event_type varchar NOT NULL, event_payload text NOT NULL, seq integer NOT NULL)`,
    )
    await client.query('CREATE UNIQUE INDEX raw_event_session_seq ON raw_event (session_id, seq)')
    const now = dbTimestamp()
    const prepared = Array.from({ length: WRITERS }, (_, w) =>
      Array.from(
        { length: APPENDS },
        (_, i): RawRow => ({
          id: newEventId(),
          sessionId: `w${w}`,
          seq: i + 1,
          timestamp: now,
          type: 'tool_result',
          payload: pythonJsonDumps({ type: 'tool_result', content: payload(i) }),
        }),
      ),
    )
    const committer = new GroupCommitter<RawRow, void>(async (batch) => {
      await client.query('BEGIN')
      await client.query(
        'INSERT INTO raw_event (id, session_id, timestamp, event_type, event_payload, seq) ' +
          'SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[])',
        [
          batch.map((row) => row.id),
          batch.map((row) => row.sessionId),
          batch.map((row) => row.timestamp),
          batch.map((row) => row.type),
          batch.map((row) => row.payload),
          batch.map((row) => row.seq),
        ],
      )
      await client.query('COMMIT')
      return batch.map(() => undefined)
    })
    const start = performance.now()
    await Promise.all(
      prepared.map(async (mine) => {
        for (const row of mine) await committer.submit(row)
      }),
    )
    return (WRITERS * APPENDS) / ((performance.now() - start) / 1000)
  } finally {
    await client.end()
  }
}

/**
 * bench:scale — berth on PostgreSQL, for several instances on one database.
 *
 * Durable appends: 50 writers, each appending one event at a time and
 * waiting for it, through PostgresStore, against raw `pg` doing the same
 * commits (the same group commit: whatever was queued while the previous
 * batch was in flight, one transaction and one multi-row INSERT per batch)
 * without berth's work (numbering seq under the append fence, updated_at,
 * commit pointers, Python-style JSON). Both run in each round on the same
 * server, in alternating order; medians of the rounds are printed, and the
 * ratio. A third run, for the record, appends as agent runs do: each writer
 * holds a run lease and every append carries its epoch.
 *
 * The server is a throwaway PostgreSQL 15 cluster (test/helpers/postgres.ts)
 * with fsync and synchronous_commit ON, as in production.
 *
 * Then, on the same server, real `berth serve` processes (bench/scale-instances.ts):
 * fan-out of one session to 50 viewers over 3 instances at 1,000 events/s,
 * takeover after SIGKILL of the instance running a session (3 rounds), and
 * requests/s for a workspace file on S3 (Ceph radosgw) against local disk.
 *
 *   npm run bench:scale          (BENCH_ROUNDS=5, BENCH_WRITERS=50, BENCH_APPENDS=200 per writer;
 *                                 BENCH_VIEWERS=50, BENCH_RATE=1000, BENCH_FANOUT_SECONDS=10,
 *                                 BENCH_TAKEOVERS=3, BENCH_SECONDS=5 for wrk)
 */
import { randomUUID } from 'node:crypto'
import { cpus, loadavg } from 'node:os'
import pg from 'pg'
import { newEventId } from '../src/core/ids.js'
import { pythonJsonDumps } from '../src/core/python-json.js'
import { dbTimestamp } from '../src/core/time.js'
import { GroupCommitter } from '../src/store/group-commit.js'
import { PostgresStore } from '../src/store/postgres/postgres-store.js'
import { startPostgresCluster } from '../test/helpers/postgres.js'
import { freshBucket, radosgwUnavailableReason, startRadosgw } from '../test/helpers/radosgw.js'
import { toolPayload as payload } from './large-db.js'
import {
  fanOut,
  Instances,
  instanceEnv,
  SLOW_MS,
  startScriptedOpenAi,
  takeoverRound,
  uploadSiteFile,
  wrk,
} from './scale-instances.js'
import { fmt, median, percentile } from './stats.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const WRITERS = Number(process.env.BENCH_WRITERS ?? 50)
const APPENDS = Number(process.env.BENCH_APPENDS ?? 200)
const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 50)
const RATE = Number(process.env.BENCH_RATE ?? 1000)
const FANOUT_SECONDS = Number(process.env.BENCH_FANOUT_SECONDS ?? 10)
const TAKEOVERS = Number(process.env.BENCH_TAKEOVERS ?? 3)
const WRK_SECONDS = Number(process.env.BENCH_SECONDS ?? 5)

/** One row of the printed table. */
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
  const fenced: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const url = await cluster.createDatabase()
    // Alternate which goes first, so neither always gets the warmer server.
    const order = round % 2 === 1 ? ['store', 'raw'] : ['raw', 'store']
    const result: Record<string, number> = {}
    for (const which of order) result[which] = which === 'store' ? await storeAppends(url) : await rawAppends(url)
    store.push(result.store as number)
    raw.push(result.raw as number)
    fenced.push(await storeAppends(await cluster.createDatabase(), { fenced: true }))
    console.log(
      `  round ${round}: PostgresStore ${fmt(result.store as number, 0)} events/s, raw pg ${fmt(result.raw as number, 0)} rows/s,` +
        ` PostgresStore with lease epochs ${fmt(fenced[fenced.length - 1] as number, 0)} events/s`,
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
    {
      what: `Durable appends, ${WRITERS} writers, PostgresStore with lease epochs`,
      value: `${fmt(median(fenced), 0)} events/s`,
      target: '',
    },
    { what: 'PostgresStore / raw pg (median of per-round ratios)', value: `${fmt(ratio, 2)}x`, target: '>= 0.8x' },
  )

  await instanceRows(cluster.createDatabase.bind(cluster), rows)

  console.log(`\nbench:scale results (appends: medians of ${ROUNDS} rounds)`)
  for (const row of rows) {
    console.log(`  ${row.what.padEnd(60)} ${row.value.padStart(22)}   ${row.target ? `(target ${row.target})` : ''}`)
  }
} finally {
  await cluster.stop()
}

/**
 * 50 writers, each on its own session, each append awaited before the next;
 * `fenced`: each holds a run lease and appends under its epoch. Returns events/s.
 */
async function storeAppends(url: string, options: { fenced?: boolean } = {}): Promise<number> {
  const store = await PostgresStore.open({ url, poolSize: 4 })
  try {
    const epochs: (number | undefined)[] = []
    for (let w = 0; w < WRITERS; w++) {
      await store.createSession({ id: `w${w}`, workspaceDir: `/w/w${w}`, deviceId: 'bench' })
      epochs.push(options.fenced ? (await store.claimRun(`w${w}`, 'bench', 600_000))?.epoch : undefined)
    }
    const start = performance.now()
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        const epoch = epochs[w]
        for (let i = 0; i < APPENDS; i++) {
          await store.append(
            `w${w}`,
            { type: 'tool_result', content: payload(i) },
            epoch === undefined ? {} : { epoch },
          )
        }
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

/** Fan-out, takeover and static-file rows: real `berth serve` processes on databases of the same cluster. */
async function instanceRows(createDatabase: () => Promise<string>, rows: Row[]): Promise<void> {
  const llm = await startScriptedOpenAi()
  const databaseUrl = await createDatabase()
  const instances = new Instances(instanceEnv(databaseUrl, llm))
  try {
    const servers = await Promise.all([instances.start(), instances.start(), instances.start()])

    // 1. Fan-out: one session, viewers round-robin over the three instances, the writer in this process.
    console.log(
      `\nFan-out: ${VIEWERS} viewers over ${servers.length} instances, ${RATE} events/s for ${FANOUT_SECONDS} s` +
        ` (${cpus().length} cores, load average ${loadavg()[0]?.toFixed(1)} before)`,
    )
    const fan = await fanOut({
      servers,
      databaseUrl,
      sessionId: randomUUID(),
      viewers: VIEWERS,
      rate: RATE,
      seconds: FANOUT_SECONDS,
    })
    const p = (q: number) => `${fmt(percentile(fan.latenciesMs, q), 1)} ms`
    console.log(
      `  delivered ${fan.delivered} of ${fan.expected} (viewer x event); viewers with a gap, duplicate or reorder: ${fan.badViewers.length}`,
    )
    for (const bad of fan.badViewers.slice(0, 5)) console.log(`    ${bad}`)
    console.log(`  writer: ${fmt(fan.writerRate, 0)} events/s committed (asked ${RATE})`)
    console.log(`  latency commit -> viewer: p50 ${p(50)}, p99 ${p(99)}, max ${p(100)}`)
    console.log(
      fan.slow.events === 0
        ? `  no event reached a viewer later than ${SLOW_MS} ms`
        : `  events some viewer got > ${SLOW_MS} ms after commit: ${fan.slow.events} of ${RATE * FANOUT_SECONDS},` +
            ` committed between ${fmt(fan.slow.fromS, 1)} s and ${fmt(fan.slow.toS, 1)} s into the run`,
    )
    rows.push(
      { what: `Fan-out, 3 instances, ${VIEWERS} viewers, ${RATE} ev/s: p50`, value: p(50), target: '' },
      { what: '  p99', value: p(99), target: '< 50 ms' },
      { what: '  max', value: p(100), target: '' },
      {
        what: '  delivered / expected (no gap, no duplicate per viewer)',
        value: `${fan.delivered}/${fan.expected} ${fan.badViewers.length === 0 ? 'ok' : `${fan.badViewers.length} BAD`}`,
        target: 'all, ok',
      },
    )

    // 2. Takeover after SIGKILL, watched from instance A.
    console.log(`\nTakeover after SIGKILL (${TAKEOVERS} rounds, viewer on another instance)`)
    const takeovers: number[] = []
    for (let round = 1; round <= TAKEOVERS; round++) {
      const ms = await takeoverRound(instances, servers[0] as (typeof servers)[0], llm)
      takeovers.push(ms)
      console.log(`  round ${round}: ${fmt(ms / 1000, 2)} s`)
    }
    rows.push({
      what: `Takeover after SIGKILL (median of ${TAKEOVERS}: ${takeovers.map((ms) => fmt(ms / 1000, 1)).join(', ')} s)`,
      value: `${fmt(median(takeovers) / 1000, 2)} s`,
      target: '<= 15 s',
    })
    await instances.stopAll()

    // 3. A workspace file from S3 against local disk.
    const skip = radosgwUnavailableReason()
    if (skip !== null) {
      console.log(`\nStatic file from S3: skipped (${skip})`)
      rows.push({ what: 'Static file req/s, S3 / local disk', value: 'skipped', target: '' })
      return
    }
    // The SDK's warning about Node 20 support from 2027 is noise in a bench's output.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
    const rgw = await startRadosgw()
    try {
      const bucket = await freshBucket(rgw, 'bench')
      const s3Env = {
        BERTH_WORKSPACE_URL: `s3://${bucket}/berth`,
        AWS_ACCESS_KEY_ID: rgw.accessKeyId,
        AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
        AWS_REGION: rgw.region,
        AWS_ENDPOINT_URL_S3: rgw.endpoint,
      }
      // Each on its own database, both on PostgreSQL: only where the workspace lives differs.
      const onS3 = await instances.start({ ...s3Env, DATABASE_URL: await createDatabase() })
      const onDisk = await instances.start({ DATABASE_URL: await createDatabase() })
      const body = Buffer.from('<!doctype html><title>bench</title>\n'.padEnd(20 * 1024, '<p>berth</p>\n'))
      const urls = {
        s3: await uploadSiteFile(onS3, randomUUID(), 'page.html', body),
        disk: await uploadSiteFile(onDisk, randomUUID(), 'page.html', body),
      }
      console.log(`\nStatic file (${body.length} B) from S3 (radosgw) and local disk: wrk -t2 -c50 -d${WRK_SECONDS}s`)
      const rps = { s3: 0, disk: 0 }
      for (let round = 1; round <= 3; round++) {
        for (const which of round % 2 === 1 ? (['s3', 'disk'] as const) : (['disk', 's3'] as const)) {
          await wrk(urls[which], 1, 50) // warm-up
          const got = await wrk(urls[which], WRK_SECONDS, 50)
          rps[which] = Math.max(rps[which], got)
          console.log(`  round ${round}: ${which === 's3' ? 'S3        ' : 'local disk'} ${fmt(got, 0)} req/s`)
        }
      }
      rows.push(
        { what: 'Static file, workspace on S3 (radosgw), best of 3', value: `${fmt(rps.s3, 0)} req/s`, target: '' },
        { what: 'Static file, workspace on local disk, best of 3', value: `${fmt(rps.disk, 0)} req/s`, target: '' },
        { what: '  S3 / local disk', value: `${fmt(rps.s3 / rps.disk, 2)}x`, target: '' },
      )
    } finally {
      await instances.stopAll()
      await rgw.stop()
    }
  } finally {
    await instances.stopAll()
    await llm.close()
  }
}

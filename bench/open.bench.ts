/**
 * bench:open — the first open of a production-size ii-agent `events.db`
 * (10,000 sessions, 1,000,000 events in the reference format: its DDL only,
 * no index on `event`, Python json.dumps payloads, naive timestamps with 6
 * fractional digits) through berth's real path (`SqliteStore.open`: the
 * backup, then every schema step, on the upgrade worker thread), beside the
 * same schema change in raw better-sqlite3 (online backup, `seq` from one
 * window-function pass, both times from one GROUP BY, the indexes), on fresh
 * copies of one generated file, in rounds that alternate who goes first.
 *
 *   npm run bench:open            (BENCH_SESSIONS / BENCH_EVENTS_PER_SESSION to resize, BENCH_ROUNDS=3)
 */
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { UpgradeProgress } from '../src/store/sqlite/schema-upgrade.js'
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js'
import { REFERENCE_DDL } from '../test/helpers/ii-agent-schema.js'
import { generateReferenceDb } from './large-db.js'
import { fmt, median } from './stats.js'

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000)
const EVENTS_PER_SESSION = Number(process.env.BENCH_EVENTS_PER_SESSION ?? 100)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

const dir = await mkdtemp(join(tmpdir(), 'berth-bench-open-'))

try {
  console.log(`bench:open  (${SESSIONS} sessions × ${EVENTS_PER_SESSION} events, ${dir})\n`)
  const source = join(dir, 'reference.db')
  const generated = generateReferenceDb(source, SESSIONS, EVENTS_PER_SESSION, REFERENCE_DDL)
  console.log(`generated ${generated.events.toLocaleString('en-US')} events in ${fmt(generated.seconds, 1)} s\n`)

  const berthTimes: number[] = []
  const rawTimes: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const contenders = [
      async () => berthTimes.push(await timeBerth(source, join(dir, `berth-${round}`))),
      async () => rawTimes.push(await timeRaw(source, join(dir, `raw-${round}`))),
    ]
    if (round % 2 === 0) contenders.reverse()
    for (const run of contenders) await run()
    console.log(
      `round ${round}: berth ${fmt(berthTimes.at(-1) ?? 0)} s, raw ${fmt(rawTimes.at(-1) ?? 0)} s` +
        (round % 2 === 0 ? '  (raw first)' : '  (berth first)'),
    )
  }
  const berth = median(berthTimes)
  const raw = median(rawTimes)
  console.log(`\nfirst open, backup included (median of ${ROUNDS}):`)
  console.log(`  berth (SqliteStore.open)   ${fmt(berth)} s`)
  console.log(`  raw better-sqlite3         ${fmt(raw)} s`)
  console.log(`  ratio berth/raw            ${fmt(berth / raw)}  (target: within 2x)`)
} finally {
  await rm(dir, { recursive: true, force: true })
}

/** berth's own path: open the store (it upgrades on its worker thread), close it. Prints where the time went. */
async function timeBerth(source: string, folder: string): Promise<number> {
  await rm(folder, { recursive: true, force: true })
  await mkdir(folder)
  const file = join(folder, 'events.db')
  await copyFile(source, file)
  const steps: { step: string; at: number }[] = []
  const start = performance.now()
  const store = await SqliteStore.open({
    file,
    onUpgradeProgress: (progress: UpgradeProgress) => {
      if (steps.at(-1)?.step !== progress.step) steps.push({ step: progress.step, at: performance.now() })
    },
  })
  const seconds = (performance.now() - start) / 1000
  await store.close()
  const parts = steps.map((entry, i) => {
    const end = steps[i + 1]?.at ?? start + seconds * 1000
    return `${entry.step} ${fmt((end - entry.at) / 1000)}`
  })
  console.log(`  berth: thread start ${fmt(((steps[0]?.at ?? start) - start) / 1000)} s, ${parts.join(', ')} (s)`)
  const backups = (await readdir(folder)).filter((name) => name.includes('.backup-'))
  if (backups.length !== 2) throw new Error(`expected a backup and its fingerprint, found ${backups.join(', ')}`)
  await rm(folder, { recursive: true, force: true })
  return seconds
}

/** The same schema change written by hand: the floor for what berth does. */
async function timeRaw(source: string, folder: string): Promise<number> {
  await rm(folder, { recursive: true, force: true })
  await mkdir(folder)
  const file = join(folder, 'events.db')
  await copyFile(source, file)
  const start = performance.now()
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  await db.backup(join(folder, 'events.db.backup'))
  const backedUp = performance.now()
  db.exec('BEGIN IMMEDIATE')
  db.exec(`
    ALTER TABLE session ADD COLUMN name varchar;
    ALTER TABLE session ADD COLUMN status varchar DEFAULT 'idle' NOT NULL;
    ALTER TABLE session ADD COLUMN updated_at datetime;
    ALTER TABLE event ADD COLUMN seq integer;
    UPDATE event SET seq = numbered.n FROM (
      SELECT rowid AS rid, ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY timestamp, rowid) AS n FROM event
    ) AS numbered WHERE event.rowid = numbered.rid;
    UPDATE session SET
      created_at = COALESCE(session.created_at, t.first, '1970-01-01 00:00:00.000000'),
      updated_at = COALESCE(t.last, session.created_at, t.first, '1970-01-01 00:00:00.000000')
    FROM (SELECT session_id, MIN(timestamp) AS first, MAX(timestamp) AS last FROM event GROUP BY session_id) AS t
    WHERE session.id = t.session_id;
    UPDATE session SET created_at = COALESCE(created_at, '1970-01-01 00:00:00.000000'),
      updated_at = COALESCE(created_at, '1970-01-01 00:00:00.000000') WHERE updated_at IS NULL;
    CREATE UNIQUE INDEX event_session_seq ON event (session_id, seq);
    CREATE INDEX session_device_created ON session (device_id, created_at, id);
    CREATE INDEX session_status ON session (status);
    CREATE TABLE share_link (token varchar(64) PRIMARY KEY, session_id varchar(36) NOT NULL REFERENCES session (id)
      ON DELETE CASCADE, created_at datetime NOT NULL, expires_at datetime, revoked_at datetime, created_by varchar);
    CREATE INDEX share_link_session ON share_link (session_id);
    ALTER TABLE session ADD COLUMN label varchar;
    CREATE INDEX session_label_created ON session (label, created_at, id);
    ALTER TABLE session ADD COLUMN run_owner varchar;
  `)
  db.exec('COMMIT')
  const seconds = (performance.now() - start) / 1000
  console.log(
    `  raw: backup ${fmt((backedUp - start) / 1000)}, schema change ${fmt(seconds - (backedUp - start) / 1000)} (s)`,
  )
  db.close()
  await rm(folder, { recursive: true, force: true })
  return seconds
}

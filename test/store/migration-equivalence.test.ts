import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, type Migration, type MigrationProvider, Migrator, SqliteDialect, sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { createMigrator } from '../../src/store/migrations.js'
import { REFERENCE_DDL } from '../helpers/ii-agent-schema.js'
import { tempDir } from '../helpers/temp-dir.js'

/**
 * `0002_berth_columns` exactly as released (commit 844434f), before its SQL was
 * rewritten to run in linear time: a correlated subquery per session over an
 * unindexed `event`. Kept here only to prove the rewrite changes no result.
 */
const RELEASED_0002: Migration = {
  async up(db) {
    await db.schema.alterTable('session').addColumn('name', 'varchar').execute()
    await db.schema
      .alterTable('session')
      .addColumn('status', 'varchar', (col) => col.notNull().defaultTo('idle'))
      .execute()
    await db.schema.alterTable('session').addColumn('updated_at', sql`datetime`).execute()
    await db.schema.alterTable('event').addColumn('seq', 'integer').execute()
    await sql`
        UPDATE event SET seq = numbered.n FROM (
          SELECT id, ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY timestamp, ${sql.raw('rowid')}) AS n
          FROM event
        ) AS numbered
        WHERE event.id = numbered.id`.execute(db)
    await sql`
        UPDATE session SET created_at = COALESCE(
          (SELECT MIN(timestamp) FROM event WHERE event.session_id = session.id), '1970-01-01 00:00:00.000000')
        WHERE created_at IS NULL`.execute(db)
    await sql`
        UPDATE session SET updated_at = COALESCE(
          (SELECT MAX(timestamp) FROM event WHERE event.session_id = session.id), created_at)`.execute(db)
    await db.schema.createIndex('event_session_seq').unique().on('event').columns(['session_id', 'seq']).execute()
    await db.schema
      .createIndex('session_device_created')
      .on('session')
      .columns(['device_id', 'created_at', 'id'])
      .execute()
    await db.schema.createIndex('session_status').on('session').column('status').execute()
  },
}

/**
 * A small reference database with the awkward cases: sessions without
 * created_at (with and without events), sessions without events, events
 * sharing a timestamp (inserted out of order), events without a timestamp,
 * and sessions interleaved in the table as concurrent ones are.
 */
function buildReference(file: string): void {
  const db = new Database(file)
  db.exec(REFERENCE_DDL)
  const session = db.prepare('INSERT INTO session (id, workspace_dir, created_at, device_id) VALUES (?, ?, ?, ?)')
  const event = db.prepare(
    'INSERT INTO event (id, session_id, timestamp, event_type, event_payload) VALUES (?, ?, ?, ?, ?)',
  )
  const sessions = [
    ['s-a', '2025-01-01 10:00:00.000000'],
    ['s-b', null], // no created_at, has events
    ['s-c', null], // no created_at, no events
    ['s-d', '2025-01-02 09:00:00.500000'], // no events
    ['s-e', null], // no created_at, only events without a timestamp
    ['s-f', '2025-01-03 00:00:00.000000'],
  ] as const
  for (const [id, created] of sessions) session.run(id, `/w/${id}`, created, 'dev')
  const times = ['2025-01-01 10:00:05.000000', '2025-01-01 10:00:01.000000', '2025-01-01 10:00:05.000000']
  let n = 0
  const add = (sessionId: string, timestamp: string | null) => {
    n++
    event.run(
      `e${String(n).padStart(4, '0')}`,
      sessionId,
      timestamp,
      'tool_result',
      `{"type": "tool_result", "n": ${n}}`,
    )
  }
  for (let round = 0; round < 12; round++) {
    for (const id of ['s-a', 's-b', 's-f']) add(id, times[round % 3] ?? null)
    if (round % 4 === 0) add('s-e', null)
  }
  add('s-a', null)
  add('s-b', '2024-12-31 23:59:59.999999')
  db.close()
}

async function migrate(file: string, run: (db: Kysely<unknown>) => Promise<void>): Promise<void> {
  const sqlite = new Database(file)
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) })
  try {
    await run(db)
  } finally {
    await db.destroy()
  }
}

function contents(file: string) {
  const db = new Database(file, { readonly: true })
  try {
    return {
      schema: db
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'kysely%' ORDER BY name")
        .all(),
      sessions: db.prepare('SELECT rowid, * FROM session ORDER BY rowid').all(),
      events: db.prepare('SELECT rowid, * FROM event ORDER BY rowid').all(),
    }
  } finally {
    db.close()
  }
}

describe('0002_berth_columns, rewritten', () => {
  it('gives the same schema, seq numbers and times as the released SQL', async () => {
    const dir = await tempDir()
    const released = join(dir, 'released.db')
    const rewritten = join(dir, 'rewritten.db')
    buildReference(released)
    await copyFile(released, rewritten)

    const provider: MigrationProvider = {
      getMigrations: async () => ({ '0002_berth_columns': RELEASED_0002 }),
    }
    await migrate(released, async (db) => {
      const { error } = await new Migrator({ db, provider }).migrateToLatest()
      if (error) throw error
    })
    const progress: [string, number][] = []
    await migrate(rewritten, async (db) => {
      const { error, results } = await createMigrator(db, 'sqlite', (step, fraction) =>
        progress.push([step, fraction]),
      ).migrateTo('0002_berth_columns')
      if (error) throw error
      expect(results?.map((r) => r.migrationName)).toEqual(['0001_reference_schema', '0002_berth_columns'])
    })

    const before = contents(released)
    const after = contents(rewritten)
    expect(after.events).toEqual(before.events)
    expect(after.sessions).toEqual(before.sessions)
    expect(after.schema).toEqual(before.schema)
    // The cases the fixture is for are really in it.
    const byId = Object.fromEntries(
      (after.sessions as { id: string; created_at: string; updated_at: string }[]).map((s) => [s.id, s]),
    )
    expect(byId['s-b']?.created_at).toBe('2024-12-31 23:59:59.999999')
    expect(byId['s-c']).toMatchObject({
      created_at: '1970-01-01 00:00:00.000000',
      updated_at: '1970-01-01 00:00:00.000000',
    })
    expect(byId['s-d']).toMatchObject({ updated_at: '2025-01-02 09:00:00.500000' })
    expect(byId['s-e']?.created_at).toBe('1970-01-01 00:00:00.000000')
    // Progress moved forward in between, for the server's 503 answers and log.
    const steps = progress.filter(([step]) => step === '0002_berth_columns').map(([, f]) => f)
    expect(steps.length).toBeGreaterThan(10)
    expect(steps).toEqual([...steps].sort((a, b) => a - b))
    expect(steps.at(-1)).toBe(1)
  })
})

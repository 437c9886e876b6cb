import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely'
import { BerthError } from '../core/errors.js'
import { APPEND_FENCE_LOCK } from './postgres/append-fence.js'

/**
 * Versioned schema migrations, in order. A database records the names it has
 * run and never runs one again, so a released step's result must never
 * change: add the next one instead. Its SQL may be rewritten (for speed) when
 * a test proves the result identical. The first reproduces the reference system's DDL (a no-op on an
 * ii-agent database, which already has it), so an existing `events.db` opens
 * in place.
 */
export type SqlDialect = 'sqlite' | 'postgres'

/**
 * How far a running step is, 0 to 1, for `berth serve`'s progress log and its
 * 503 answers while it upgrades. Called between statements.
 */
export type StepProgress = (step: string, fraction: number) => void

/** The name progress reports use for the commit that ends an upgrade (all steps are one transaction). */
export const COMMIT_STEP = 'commit'

/** The creation time given to a session that has none and no events to take one from. */
const EPOCH = '1970-01-01 00:00:00.000000'

function migrations(dialect: SqlDialect, progress: StepProgress = () => {}): Record<string, Migration> {
  const reporter = (step: string) => (fraction: number) => progress(step, fraction)
  // PostgreSQL keeps times and payloads as text, so the stored forms (naive UTC with six digits, Python-style
  // JSON) come back byte for byte as SQLite gives them; ids and times sort bytewise (collation "C"), as on
  // SQLite, whatever the database's default collation.
  const postgres = dialect === 'postgres'
  const datetime = postgres ? sql`text collate "C"` : sql`datetime`
  const json = postgres ? sql`text` : sql`json`
  const id36 = postgres ? sql`varchar(36) collate "C"` : 'varchar(36)'
  const steps: Record<string, Migration> = {
    '0001_reference_schema': {
      async up(db) {
        await db.schema
          .createTable('session')
          .ifNotExists()
          .addColumn('id', id36, (col) => col.primaryKey())
          .addColumn('workspace_dir', 'varchar', (col) => col.notNull().unique())
          .addColumn('created_at', datetime)
          .addColumn('device_id', 'varchar')
          .addColumn('summary', 'varchar')
          .execute()
        // ii-agent databases from before the `summary` column (its own migration).
        const tables = await db.introspection.getTables()
        const session = tables.find((table) => table.name === 'session')
        if (session && !session.columns.some((column) => column.name === 'summary')) {
          await db.schema.alterTable('session').addColumn('summary', 'varchar').execute()
        }
        await db.schema
          .createTable('event')
          .ifNotExists()
          .addColumn('id', id36, (col) => col.primaryKey())
          .addColumn('session_id', id36, (col) => col.notNull().references('session.id').onDelete('cascade'))
          .addColumn('timestamp', datetime)
          .addColumn('event_type', 'varchar', (col) => col.notNull())
          .addColumn('event_payload', json, (col) => col.notNull())
          .execute()
      },
    },
    // Rewritten for speed since its release; its result is the same (test/store/migration-equivalence.test.ts).
    // Linear or n log n in the table sizes: no correlated subquery over `event`, which has no index yet.
    '0002_berth_columns': {
      async up(db) {
        const report = reporter('0002_berth_columns')
        report(0)
        await db.schema.alterTable('session').addColumn('name', 'varchar').execute()
        await db.schema
          .alterTable('session')
          .addColumn('status', 'varchar', (col) => col.notNull().defaultTo('idle'))
          .execute()
        await db.schema.alterTable('session').addColumn('updated_at', datetime).execute()
        await db.schema.alterTable('event').addColumn('seq', 'integer').execute()

        if (dialect === 'sqlite') await numberEventsSqlite(db, report)
        else {
          await sql`
          UPDATE event SET seq = numbered.n FROM (
            SELECT id, ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY timestamp, id) AS n FROM event
          ) AS numbered
          WHERE event.id = numbered.id`.execute(db)
        }
        report(0.8)
        // One GROUP BY for both times. Sessions the reference stored without a creation time sort by
        // their first event; updated_at is the last event's time, else the creation time.
        await sql`
        UPDATE session SET
          created_at = COALESCE(session.created_at, times.first, ${EPOCH}),
          updated_at = COALESCE(times.last, session.created_at, times.first, ${EPOCH})
        FROM (SELECT session_id, MIN(timestamp) AS first, MAX(timestamp) AS last FROM event GROUP BY session_id) AS times
        WHERE session.id = times.session_id`.execute(db)
        // Sessions without events.
        await sql`
        UPDATE session SET created_at = COALESCE(created_at, ${EPOCH}), updated_at = COALESCE(created_at, ${EPOCH})
        WHERE updated_at IS NULL`.execute(db)
        report(0.85)

        await db.schema.createIndex('event_session_seq').unique().on('event').columns(['session_id', 'seq']).execute()
        report(0.97)
        await db.schema
          .createIndex('session_device_created')
          .on('session')
          .columns(['device_id', 'created_at', 'id'])
          .execute()
        await db.schema.createIndex('session_status').on('session').column('status').execute()
      },
    },
    '0003_share_links': {
      async up(db) {
        await db.schema
          .createTable('share_link')
          .addColumn('token', 'varchar(64)', (col) => col.primaryKey())
          .addColumn('session_id', id36, (col) => col.notNull().references('session.id').onDelete('cascade'))
          .addColumn('created_at', datetime, (col) => col.notNull())
          .addColumn('expires_at', datetime)
          .addColumn('revoked_at', datetime)
          .addColumn('created_by', 'varchar')
          .execute()
        await db.schema.createIndex('share_link_session').on('share_link').column('session_id').execute()
      },
    },
    '0004_session_label': {
      async up(db) {
        // A grouping label, e.g. `gaia:<run name>` for the sessions of one eval run.
        await db.schema.alterTable('session').addColumn('label', 'varchar').execute()
        await db.schema
          .createIndex('session_label_created')
          .on('session')
          .columns(['label', 'created_at', 'id'])
          .execute()
      },
    },
    '0005_run_owner': {
      async up(db) {
        // Which process runs the session (host/pid), so a restarting server leaves a live CLI or eval run alone.
        await db.schema.alterTable('session').addColumn('run_owner', 'varchar').execute()
      },
    },
    '0006_run_lease': {
      async up(db) {
        // One owner per run across instances (RunLeases in store.ts): claiming bumps the epoch, appends made
        // under an older epoch are refused, and a lease not renewed by its expiry (ms since 1970) may be taken over.
        await db.schema
          .alterTable('session')
          .addColumn('run_epoch', 'bigint', (col) => col.notNull().defaultTo(0))
          .execute()
        await db.schema.alterTable('session').addColumn('lease_expires_at', 'bigint').execute()
      },
    },
    '0007_workspace_files': {
      async up(db) {
        // The file index of workspaces kept in S3 (src/store/workspace-file-index.ts): the quota is summed
        // from it, and `epoch` refuses writes from a run owner whose lease a newer owner took.
        await db.schema
          .createTable('workspace_file')
          .addColumn('workspace_key', 'varchar(128)', (col) => col.notNull())
          .addColumn('path', 'varchar', (col) => col.notNull())
          .addColumn('size', 'bigint', (col) => col.notNull())
          .addColumn('sha256', 'varchar(64)', (col) => col.notNull())
          .addColumn('etag', 'varchar', (col) => col.notNull())
          .addColumn('epoch', 'bigint', (col) => col.notNull().defaultTo(0))
          .addColumn('mtime_ms', 'bigint', (col) => col.notNull())
          .addPrimaryKeyConstraint('workspace_file_pk', ['workspace_key', 'path'])
          .execute()
      },
    },
    '0008_append_fence': {
      async up(db) {
        // PostgreSQL only (src/store/postgres/append-fence.ts): a generation that moves, under an exclusive
        // advisory lock appends share, whenever events are deleted or renumbered or a run lease is claimed, so an
        // instance may number a session's events from the last seq it wrote while the generation stands still.
        // Triggers move it, so no writer (another berth version, an operator's SQL) can forget to.
        if (!postgres) return
        await sql`
        CREATE TABLE append_fence (
          singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
          generation bigint NOT NULL
        )`.execute(db)
        await sql`INSERT INTO append_fence (generation) VALUES (0)`.execute(db)
        await sql`
        CREATE FUNCTION berth_fence_appends() RETURNS void LANGUAGE plpgsql AS $fn$
        BEGIN
          PERFORM pg_advisory_xact_lock(${sql.lit(APPEND_FENCE_LOCK[0])}, ${sql.lit(APPEND_FENCE_LOCK[1])});
          UPDATE append_fence SET generation = generation + 1;
          IF NOT FOUND THEN
            -- The row was deleted (a TRUNCATE): start again where no instance's remembered generation can be.
            INSERT INTO append_fence (generation) VALUES (floor(extract(epoch FROM clock_timestamp()) * 1000000));
          END IF;
        END
        $fn$`.execute(db)
        await sql`
        CREATE FUNCTION berth_fence_appends_trigger() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
          PERFORM berth_fence_appends();
          RETURN NULL;
        END
        $fn$`.execute(db)
        await sql`
        CREATE TRIGGER event_fence_appends BEFORE DELETE OR TRUNCATE OR UPDATE OF session_id, seq ON event
          FOR EACH STATEMENT EXECUTE FUNCTION berth_fence_appends_trigger()`.execute(db)
        await sql`
        CREATE TRIGGER session_fence_appends BEFORE DELETE OR TRUNCATE OR UPDATE OF id, run_epoch ON session
          FOR EACH STATEMENT EXECUTE FUNCTION berth_fence_appends_trigger()`.execute(db)
      },
    },
  }
  // Every step says when it starts and ends; long ones report in between.
  return Object.fromEntries(
    Object.entries(steps).map(([name, step]) => [
      name,
      {
        async up(db: Kysely<unknown>) {
          progress(name, 0)
          await step.up(db)
          progress(name, 1)
        },
      },
    ]),
  )
}

/**
 * Number every event per session in time order, insertion order (rowid) on
 * ties, exactly as one `ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY
 * timestamp, rowid)` over the table would. The numbers are computed in one
 * sorted pass into a temporary table keyed by rowid, then written in rowid
 * ranges: each page of `event` is rewritten once, in file order (writing them
 * session by session touches pages all over the file), and progress advances
 * between ranges.
 */
async function numberEventsSqlite(db: Kysely<unknown>, report: (fraction: number) => void): Promise<void> {
  await sql`CREATE TEMP TABLE berth_event_numbering (rid INTEGER PRIMARY KEY, n INTEGER NOT NULL)`.execute(db)
  await sql`
  INSERT INTO temp.berth_event_numbering (rid, n)
  SELECT rowid, ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY timestamp, rowid) FROM event`.execute(db)
  report(0.2)
  const range = await sql<{ low: number | null; high: number | null }>`
  SELECT MIN(rid) AS low, MAX(rid) AS high FROM temp.berth_event_numbering`.execute(db)
  const low = Number(range.rows[0]?.low ?? 0)
  const high = Number(range.rows[0]?.high ?? -1)
  const width = Math.max(1, Math.ceil((high - low + 1) / SEQ_RANGES))
  for (let start = low; start <= high; start += width) {
    await sql`
    UPDATE event SET seq = numbered.n FROM temp.berth_event_numbering AS numbered
    WHERE event.rowid = numbered.rid AND numbered.rid >= ${start} AND numbered.rid < ${start + width}`.execute(db)
    report(0.2 + (0.6 * (start + width - low)) / (high - low + 1))
  }
  await sql`DROP TABLE temp.berth_event_numbering`.execute(db)
}

/** Ranges `seq` is written in: enough for progress to move every few percent. */
const SEQ_RANGES = 50

export const MIGRATION_NAMES: readonly string[] = Object.keys(migrations('sqlite'))
export const LATEST_SCHEMA = MIGRATION_NAMES[MIGRATION_NAMES.length - 1] as string

export function createMigrator(
  db: Kysely<unknown>,
  dialect: SqlDialect,
  progress?: StepProgress,
  options: { disableTransactions?: boolean } = {},
): Migrator {
  const list = migrations(dialect, progress)
  const provider: MigrationProvider = { getMigrations: async () => list }
  return new Migrator({ db, provider, disableTransactions: options.disableTransactions })
}

export interface SchemaState {
  /** Names applied to this database, oldest first. */
  applied: string[]
  /** Names this build knows and the database lacks. */
  pending: string[]
  /** Names the database has that this build does not know: it was written by a newer berth. */
  unknown: string[]
  /** The database has the reference tables (an existing ii-agent or berth file, not an empty one). */
  hasData: boolean
}

export async function readSchemaState(db: Kysely<unknown>): Promise<SchemaState> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true })
  const names = new Set(tables.map((table) => table.name))
  let applied: string[] = []
  if (names.has('kysely_migration')) {
    const rows = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY timestamp, name`.execute(db)
    applied = rows.rows.map((row) => row.name)
  }
  const known = new Set(MIGRATION_NAMES)
  return {
    applied,
    pending: MIGRATION_NAMES.filter((name) => !applied.includes(name)),
    unknown: applied.filter((name) => !known.has(name)),
    hasData: names.has('session') || names.has('event'),
  }
}

/**
 * Bring the schema up to date. `backup` runs first whenever there is
 * something to migrate in a database that already holds data.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  dialect: SqlDialect,
  file: string,
  backup: (state: SchemaState) => Promise<string | null>,
  progress?: StepProgress,
): Promise<{ applied: string[]; backupFile: string | null }> {
  const state = await readSchemaState(db)
  if (state.unknown.length > 0) {
    throw new BerthError(
      'DATABASE_TOO_NEW',
      `${file} was written by a newer berth (it has schema steps ${state.unknown.join(', ')} that this version does not know). ` +
        'Nothing was changed. Run the newer berth version, or restore a backup made before it.',
      { details: { file, unknown: state.unknown } },
    )
  }
  if (state.pending.length === 0) return { applied: [], backupFile: null }
  const backupFile = state.hasData ? await backup(state) : null
  // Kysely runs SQLite migrations without a transaction (its adapter reports no transactional DDL), but
  // SQLite has it: all pending steps commit together or not at all, so a crash mid-step leaves the file as
  // it was and the next start runs them again. Kysely uses this one connection, so its statements join in.
  if (dialect === 'sqlite') await sql`BEGIN IMMEDIATE`.execute(db)
  let { error, results } =
    dialect === 'postgres'
      ? await migratePostgres(db, progress)
      : await createMigrator(db, dialect, progress).migrateToLatest()
  if (dialect === 'sqlite') {
    try {
      if (!error) progress?.(COMMIT_STEP, 0)
      await sql.raw(error ? 'ROLLBACK' : 'COMMIT').execute(db)
      if (!error) progress?.(COMMIT_STEP, 1)
    } catch (commitError) {
      await sql`ROLLBACK`.execute(db).catch(() => undefined)
      error ??= commitError
      results = []
    }
  }
  if (error) {
    throw new BerthError(
      'DATABASE_MIGRATION_FAILED',
      `Updating the schema of ${file} failed: ${String(error)}.` +
        (backupFile ? ` A backup taken just before is at ${backupFile}.` : ''),
      { cause: error, details: { file, backupFile } },
    )
  }
  return { applied: (results ?? []).map((result) => result.migrationName), backupFile }
}

/** Any number, the same in every berth: instances migrating one PostgreSQL database wait for each other on it. */
const POSTGRES_MIGRATION_LOCK = 7_351_209_114

/**
 * PostgreSQL has transactional DDL: every pending step runs in one
 * transaction on one connection, after a transaction-scoped advisory lock.
 * An instance that starts while another migrates waits at the lock, then
 * finds the steps recorded and runs none.
 */
async function migratePostgres(db: Kysely<unknown>, progress?: StepProgress) {
  return db.connection().execute(async (connection) => {
    await sql`BEGIN`.execute(connection)
    try {
      await sql`SELECT pg_advisory_xact_lock(${POSTGRES_MIGRATION_LOCK})`.execute(connection)
      const outcome = await createMigrator(connection, 'postgres', progress, {
        disableTransactions: true,
      }).migrateToLatest()
      if (!outcome.error) progress?.(COMMIT_STEP, 0)
      await sql.raw(outcome.error ? 'ROLLBACK' : 'COMMIT').execute(connection)
      if (!outcome.error) progress?.(COMMIT_STEP, 1)
      return outcome
    } catch (error) {
      await sql`ROLLBACK`.execute(connection).catch(() => undefined)
      return { error, results: [] }
    }
  })
}

import BetterSqlite3 from 'better-sqlite3'
import { BerthError } from '../../core/errors.js'

export type SqliteHandle = BetterSqlite3.Database

export interface OpenSqliteOptions {
  /** Open without writing anything: no pragmas that change the file, no migrations. */
  readonly?: boolean
  /** How long a writer waits for another process's lock (the eval runner may share the file). */
  busyTimeoutMs?: number
}

/**
 * Open `events.db` with the settings berth relies on: WAL, synchronous=FULL
 * (a committed event survives power loss), foreign keys on, a busy timeout.
 * A file that is not a readable SQLite database is refused with a clear error
 * and never overwritten.
 */
export function openSqlite(file: string, options: OpenSqliteOptions = {}): SqliteHandle {
  let db: SqliteHandle | undefined
  try {
    db = new BetterSqlite3(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false })
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`)
    // Reading the schema is the first real access: a corrupt or foreign file fails here.
    db.prepare('SELECT count(*) FROM sqlite_master').get()
    if (!options.readonly) {
      const mode = db.pragma('journal_mode = WAL', { simple: true })
      if (String(mode).toLowerCase() !== 'wal') {
        throw new Error(`the database refused WAL mode (journal_mode is ${String(mode)})`)
      }
      db.pragma('synchronous = FULL')
      db.pragma('foreign_keys = ON')
    }
    return db
  } catch (error) {
    db?.close()
    throw unreadable(file, error)
  }
}

function unreadable(file: string, error: unknown): BerthError {
  if (error instanceof BerthError) return error
  const reason = error instanceof Error ? error.message : String(error)
  return new BerthError(
    'DATABASE_UNREADABLE',
    `Cannot open the database ${file}: ${reason}. The file was left untouched. Run \`berth doctor\` for details; ` +
      'restore it from a backup (`berth restore`) or move it aside to start with an empty database.',
    { cause: error, details: { file } },
  )
}

/** SQLite's error code, e.g. `SQLITE_FULL`, of an error thrown by better-sqlite3. */
export function sqliteCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** Turn storage-level failures into berth's typed errors; leave the rest as they are. */
export function mapWriteError(error: unknown, file: string): unknown {
  const code = sqliteCode(error)
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC') {
    return new BerthError(
      'DISK_FULL',
      `Could not write to ${file}: the disk is full (${code}). Nothing was half-written; free some space and try again.`,
      { cause: error, details: { file } },
    )
  }
  if (code === 'SQLITE_READONLY' || code?.startsWith('SQLITE_READONLY_')) {
    return new BerthError('ROOT_NOT_WRITABLE', `Could not write to ${file}: it is read-only (${code}).`, {
      cause: error,
      details: { file },
    })
  }
  return error
}

/**
 * Online backup through SQLite's backup API: consistent even while writers
 * run. The copy is switched to a rollback journal so it is one
 * self-contained file (no `-wal`/`-shm` siblings to forget when moving it).
 */
export async function backupSqlite(db: SqliteHandle, destination: string): Promise<void> {
  await db.backup(destination)
  const copy = new BetterSqlite3(destination)
  try {
    copy.pragma('journal_mode = DELETE')
  } finally {
    copy.close()
  }
}

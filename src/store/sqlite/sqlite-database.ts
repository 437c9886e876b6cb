import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs'
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
    assertWholeFile(file)
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

/**
 * A database file cut short (a copy that stopped half-way, a full disk while
 * restoring) can still have an intact first page: SQLite opens it and only
 * fails on a later page, after berth has switched it to WAL. The header says
 * how many pages the file has (when its "valid-for" counter matches the
 * change counter); fewer bytes than that is refused before anything is
 * written. A missing or empty file is a new database; anything that is not a
 * SQLite header is left for SQLite to refuse. With a non-empty `-wal` beside
 * it the check is skipped: a checkpoint cut short writes page 1 before the
 * pages that extend the file, and SQLite completes it from the WAL.
 */
function assertWholeFile(file: string): void {
  if (nonEmpty(`${file}-wal`)) return
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch {
    return
  }
  try {
    const size = fstatSync(fd).size
    if (size === 0) return
    const header = Buffer.alloc(100)
    const read = readSync(fd, header, 0, 100, 0)
    if (header.subarray(0, 16).toString('latin1') !== 'SQLite format 3\u0000') return
    if (read < 100) throw new Error(`the file is ${size} bytes, shorter than a SQLite header (truncated)`)
    const rawPageSize = header.readUInt16BE(16)
    const pageSize = rawPageSize === 1 ? 65536 : rawPageSize
    const pages = header.readUInt32BE(28)
    const valid = header.readUInt32BE(24) === header.readUInt32BE(92)
    if (valid && pages > 0 && size < pages * pageSize) {
      throw new Error(`the file is ${size} bytes but its header counts ${pages} pages of ${pageSize} bytes (truncated)`)
    }
  } finally {
    closeSync(fd)
  }
}

function nonEmpty(file: string): boolean {
  try {
    return statSync(file).size > 0
  } catch {
    return false
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

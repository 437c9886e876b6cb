import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'

import Database from 'better-sqlite3'

import { BerthError } from '../core/errors.js'

/** SQLite file whose exclusive lock marks "a server owns this root". Holds no data. */
export const LOCK_FILE = '.berth-server.lock'
/** Who holds the lock; a side file because the lock file itself is unreadable while held. */
export const HOLDER_FILE = '.berth-server.json'

export interface RootLock {
  /** Absolute path of the lock file. */
  readonly path: string
  /** Give the root back. Idempotent. */
  release(): void
}

export interface LockHolder {
  pid: number
  hostname: string
  /** ISO 8601. */
  startedAt: string
  command: string
}

/**
 * Take the one-server-per-root lock. The lock is SQLite's own exclusive file
 * lock (`locking_mode=EXCLUSIVE` plus a committed write) on `<root>/.berth-server.lock`,
 * held for as long as the returned handle is open. The OS drops it when the
 * process dies, even on SIGKILL, so a stale lock can never block a restart and
 * there is no pid file to clean up.
 *
 * Caution: these are POSIX locks, which a process loses when it closes *any*
 * descriptor of the file. Never open or copy the lock file with plain `fs` in
 * the server process (backups must skip it).
 *
 * @example
 *   const lock = acquireRootLock(paths.root, 'berth serve') // throws BerthError('ROOT_LOCKED')
 *   process.on('exit', () => lock.release())
 */
export function acquireRootLock(root: string, command: string): RootLock {
  const abs = resolve(root)
  const path = join(abs, LOCK_FILE)
  const startedAt = new Date().toISOString()
  let db: Database.Database | undefined
  try {
    db = new Database(path, { timeout: 0 })
    db.pragma('locking_mode = EXCLUSIVE')
    db.exec(
      'CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, started_at TEXT NOT NULL)',
    )
    // In exclusive locking mode the EXCLUSIVE lock taken for this write is kept after COMMIT.
    db.exec('BEGIN EXCLUSIVE')
    db.prepare('INSERT OR REPLACE INTO holder (id, pid, started_at) VALUES (1, ?, ?)').run(process.pid, startedAt)
    db.exec('COMMIT')
  } catch (err) {
    db?.close()
    if (isBusy(err)) throw lockedError(abs, readHolder(abs))
    throw new BerthError(
      'ROOT_LOCK_FAILED',
      `Could not take the server lock ${path}: ${err instanceof Error ? err.message : String(err)}. ` +
        `The file holds no data; if no berth server is running on ${abs}, delete it and start again.`,
      { cause: err, details: { path } },
    )
  }
  const holder: LockHolder = { pid: process.pid, hostname: hostname(), startedAt, command }
  writeHolder(abs, holder)

  let open: Database.Database | undefined = db
  return {
    path,
    release() {
      if (open === undefined) return
      // Remove the holder note first, while we still own the root.
      if (readHolder(abs)?.pid === process.pid) unlinkQuiet(join(abs, HOLDER_FILE))
      open.close()
      open = undefined
    },
  }
}

/**
 * For `berth doctor`: is a server holding the lock right now, and who. Opens
 * the lock file read-only and tries to read it, which fails with SQLITE_BUSY
 * exactly while a server holds its exclusive lock; creates nothing.
 *
 * @example
 *   const { locked, holder } = inspectRootLock(paths.root)
 *   if (locked) console.log(`in use by pid ${holder?.pid}`)
 */
export function inspectRootLock(root: string): { locked: boolean; holder: LockHolder | null } {
  const abs = resolve(root)
  const path = join(abs, LOCK_FILE)
  let db: Database.Database | undefined
  try {
    db = new Database(path, { timeout: 0, readonly: true, fileMustExist: true })
    db.prepare('SELECT count(*) FROM sqlite_master').get()
    return { locked: false, holder: null }
  } catch (err) {
    if (isBusy(err)) return { locked: true, holder: readHolder(abs) }
    // Never created (no server has run here): not locked.
    if (sqliteCode(err) === 'SQLITE_CANTOPEN') return { locked: false, holder: null }
    throw new BerthError(
      'ROOT_LOCK_FAILED',
      `Could not inspect the server lock ${path}: ${err instanceof Error ? err.message : String(err)}.`,
      {
        cause: err,
        details: { path },
      },
    )
  } finally {
    db?.close()
  }
}

function lockedError(root: string, holder: LockHolder | null): BerthError {
  const who =
    holder === null
      ? 'another berth server'
      : `another berth server (pid ${holder.pid} on host ${holder.hostname}, started ${holder.startedAt}, \`${holder.command}\`)`
  return new BerthError(
    'ROOT_LOCKED',
    `The data root ${root} is in use by ${who}. Only one server may use a data root at a time: ` +
      `stop that server first, or give this one another root with --data-dir or BERTH_DATA_DIR. ` +
      `Read-only tools (such as berth doctor) and the eval runner do not need the lock and may run alongside it.`,
    { details: { root, holder } },
  )
}

function writeHolder(root: string, holder: LockHolder): void {
  // Write then rename so a reader never sees half a file.
  const file = join(root, HOLDER_FILE)
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, `${JSON.stringify(holder)}\n`)
  renameSync(tmp, file)
}

function readHolder(root: string): LockHolder | null {
  try {
    const value: unknown = JSON.parse(readFileSync(join(root, HOLDER_FILE), 'utf8'))
    if (typeof value !== 'object' || value === null) return null
    const v = value as Record<string, unknown>
    if (typeof v.pid !== 'number' || typeof v.hostname !== 'string' || typeof v.startedAt !== 'string') return null
    return {
      pid: v.pid,
      hostname: v.hostname,
      startedAt: v.startedAt,
      command: typeof v.command === 'string' ? v.command : '',
    }
  } catch {
    // Missing or mangled note: the lock itself is what counts.
    return null
  }
}

function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // Already gone is fine.
  }
}

function sqliteCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined
}

function isBusy(err: unknown): boolean {
  const code = sqliteCode(err)
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code?.startsWith('SQLITE_BUSY_') === true
}

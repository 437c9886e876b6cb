import Database from 'better-sqlite3'
import { BerthError } from '../core/errors.js'

export interface RunLock {
  release(): void
}

/**
 * One runner per eval run: two runners on the same name would run the same
 * tasks twice and mark each other's sessions interrupted. Like the server's
 * root lock, this is SQLite's exclusive file lock, which the OS drops when
 * the process dies (even on SIGKILL), so a crash never leaves a stale lock.
 *
 * @example
 *   const lock = acquireRunLock(paths.lock, 'smoke') // throws EVAL_RUN_LOCKED
 *   try { ... } finally { lock.release() }
 */
export function acquireRunLock(file: string, runName: string): RunLock {
  let db: Database.Database | undefined
  try {
    db = new Database(file, { timeout: 0 })
    db.pragma('locking_mode = EXCLUSIVE')
    db.exec('CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL)')
    // In exclusive locking mode the lock taken by this write is kept after COMMIT.
    db.exec('BEGIN EXCLUSIVE')
    db.prepare('INSERT OR REPLACE INTO holder (id, pid) VALUES (1, ?)').run(process.pid)
    db.exec('COMMIT')
  } catch (error) {
    db?.close()
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) {
      throw new BerthError(
        'EVAL_RUN_LOCKED',
        `Eval run ${runName} is already being run by another berth process; wait for it, stop it, or pick another --run-name.`,
        { status: 409, details: { runName, lock: file } },
      )
    }
    throw error
  }
  let open: Database.Database | undefined = db
  return {
    release() {
      open?.close()
      open = undefined
    },
  }
}

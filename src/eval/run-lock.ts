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
    // A short wait, not none: a server listing runs probes the lock (runLockHeld) for an instant.
    db = new Database(file, { timeout: 250 })
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
        { details: { runName, lock: file } },
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

/**
 * Whether some process holds a run's lock now, for listing runs: a read
 * needs a shared lock, which the holder's exclusive one refuses. Read-only
 * and instant; a runner acquiring at that very moment waits for it
 * (acquireRunLock's busy timeout) instead of failing.
 *
 * @example
 *   runLockHeld(paths.lock) // true while `berth eval gaia --run-name smoke` runs
 */
export function runLockHeld(file: string): boolean {
  let db: Database.Database | undefined
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 0 })
    db.prepare('SELECT pid FROM holder').get()
    return false
  } catch (error) {
    const code = (error as { code?: unknown }).code
    // A missing file or table: no runner ever held it.
    return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
  } finally {
    db?.close()
  }
}

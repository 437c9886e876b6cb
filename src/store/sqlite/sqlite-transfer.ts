import { copyFile, open, rename, stat, unlink } from 'node:fs/promises'
import BetterSqlite3 from 'better-sqlite3'
import { assertOneSession, type ExistingSession, type MergeFindings, mergeResult, planMerge } from '../merge-plan.js'
import type { EventRow } from '../schema.js'
import type { SessionMergeResult, SessionTransfer } from '../types.js'
import { mapWriteError, type SqliteHandle } from './sqlite-database.js'

/**
 * Moving whole sessions between SQLite files: consistent snapshots of a
 * database someone else may be writing, and merges by primary key. Used by
 * migrate, backup and import through `SqliteStore`; the only SQL they need.
 */

/** Pages per backup step: large enough that a writer in another process cannot restart the copy forever. */
const ALL_PAGES = 0x7fffffff

/**
 * Write a consistent, self-contained copy of the SQLite database `source` to
 * `destination` (rollback journal mode, no `-wal`/`-shm` siblings) without
 * writing anything next to the source.
 *
 * A WAL database that nobody has open (no `-wal` file) is copied as a file
 * and kept only if it did not change meanwhile: opening it, even read-only,
 * would leave `-wal` and `-shm` files beside it. Otherwise (a server is
 * running, or a rollback-journal database such as ii-agent's) SQLite's online
 * backup API reads it through a read-only connection.
 *
 * @example
 *   await snapshotSqliteFile('/old/events.db', '/new/.berth-migrate/x/source.db')
 */
export async function snapshotSqliteFile(
  source: string,
  destination: string,
  options: { onStep?: (remainingPages: number) => void } = {},
): Promise<void> {
  const temp = `${destination}.partial`
  await unlink(temp).catch(() => undefined)
  try {
    if (!(await copyIfQuiescent(source, temp))) await backupThroughSqlite(source, temp, options.onStep)
    const copy = new BetterSqlite3(temp)
    try {
      copy.pragma('journal_mode = DELETE')
      const check = copy.pragma('quick_check', { simple: true })
      if (check !== 'ok') throw new Error(`the copy of ${source} fails SQLite's quick_check: ${String(check)}`)
    } finally {
      copy.close()
    }
    await fsyncFile(temp)
    await rename(temp, destination)
  } catch (error) {
    await unlink(temp).catch(() => undefined)
    throw mapWriteError(error, destination)
  }
}

async function copyIfQuiescent(source: string, temp: string): Promise<boolean> {
  if (!(await isWalMode(source)) || (await exists(`${source}-wal`))) return false
  const before = await stat(source)
  await copyFile(source, temp)
  const after = await stat(source)
  const unchanged =
    before.size === after.size &&
    before.mtimeMs === after.mtimeMs &&
    before.ctimeMs === after.ctimeMs &&
    before.ino === after.ino
  if (unchanged && !(await exists(`${source}-wal`))) return true
  await unlink(temp)
  return false
}

async function backupThroughSqlite(source: string, temp: string, onStep?: (remaining: number) => void) {
  const db = new BetterSqlite3(source, { readonly: true, fileMustExist: true, timeout: 10_000 })
  try {
    await db.backup(temp, {
      progress: ({ remainingPages }) => {
        onStep?.(remainingPages)
        return ALL_PAGES
      },
    })
  } finally {
    db.close()
  }
}

/** Bytes 18-19 of the header are 2 for a database in WAL mode. */
async function isWalMode(file: string): Promise<boolean> {
  const handle = await open(file, 'r')
  try {
    const header = Buffer.alloc(20)
    await handle.read(header, 0, 20, 0)
    return header[18] === 2 && header[19] === 2
  } finally {
    await handle.close()
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  )
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * The merge behind `Store.mergeSession`, on prepared statements. Checks run
 * inside the same transaction as the writes, so what was checked is what is
 * written; a dry run only reads.
 */
export function createSessionMerger(db: SqliteHandle, file: string) {
  const getSession = db.prepare('SELECT id, workspace_dir, created_at, device_id FROM session WHERE id = ?')
  const folderOwner = db.prepare('SELECT id FROM session WHERE workspace_dir = ?').pluck()
  const getEvent = db.prepare(
    'SELECT id, session_id, seq, timestamp, event_type, event_payload FROM event WHERE id = ?',
  )
  const seqHolder = db.prepare('SELECT id FROM event WHERE session_id = ? AND seq = ?').pluck()
  const getShareSession = db.prepare('SELECT session_id FROM share_link WHERE token = ?').pluck()
  const insertSession = db.prepare(
    `INSERT INTO session (id, workspace_dir, created_at, device_id, summary, name, status, updated_at, label)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const insertEvent = db.prepare(
    'INSERT INTO event (id, session_id, timestamp, event_type, event_payload, seq) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const insertShare = db.prepare(
    `INSERT INTO share_link (token, session_id, created_at, expires_at, revoked_at, created_by)
     VALUES (?, ?, ?, ?, ?, ?)`,
  )

  /** What the target holds that the merge is checked against, row by row on the prepared statements. */
  const findings = (input: SessionTransfer): MergeFindings => {
    const { session } = input
    const existing = getSession.get(session.id) as ExistingSession | undefined
    const storedEvents = new Map<string, EventRow>()
    const seqHolders = new Map<number, string>()
    for (const event of input.events) {
      const stored = getEvent.get(event.id) as EventRow | undefined
      if (stored !== undefined) storedEvents.set(event.id, stored)
      else if (existing !== undefined) {
        const holder = seqHolder.get(session.id, event.seq) as string | undefined
        if (holder !== undefined) seqHolders.set(event.seq, holder)
      }
    }
    const shareOwners = new Map<string, string>()
    for (const share of input.shares ?? []) {
      const owner = getShareSession.get(share.token) as string | undefined
      if (owner !== undefined) shareOwners.set(share.token, owner)
    }
    return {
      existing,
      folderOwner: existing === undefined ? (folderOwner.get(session.workspaceDir) as string | undefined) : undefined,
      storedEvents,
      seqHolders,
      shareOwners,
    }
  }

  const write = (input: SessionTransfer, dryRun: boolean): SessionMergeResult => {
    assertOneSession(input)
    const planned = planMerge(input, findings(input))
    if (planned.conflicts.length === 0 && !dryRun) {
      const { session } = input
      if (!planned.sessionExists) {
        insertSession.run(
          session.id,
          session.workspaceDir,
          session.createdAt,
          session.deviceId,
          session.summary,
          session.name,
          session.status,
          session.updatedAt,
          session.label,
        )
      }
      for (const e of planned.events) insertEvent.run(e.id, e.sessionId, e.timestamp, e.type, e.payload, e.seq)
      for (const s of planned.shares) {
        insertShare.run(s.token, session.id, s.createdAt, s.expiresAt, s.revokedAt, s.createdBy)
      }
    }
    return mergeResult(planned)
  }
  const writeTx = db.transaction((input: SessionTransfer) => write(input, false))
  const readTx = db.transaction((input: SessionTransfer) => write(input, true))

  return (input: SessionTransfer, dryRun: boolean): SessionMergeResult => {
    try {
      return dryRun ? readTx.deferred(input) : writeTx.immediate(input)
    } catch (error) {
      throw mapWriteError(error, file)
    }
  }
}

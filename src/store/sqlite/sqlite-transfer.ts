import { copyFile, open, rename, stat, unlink } from 'node:fs/promises'
import BetterSqlite3 from 'better-sqlite3'
import type { EventRow, SessionRow as FullSessionRow } from '../schema.js'
import type { SessionMergeResult, SessionTransfer, ShareRecord, StoredEvent } from '../types.js'
import { mapWriteError, type SqliteHandle } from './sqlite-database.js'

/**
 * Moving whole sessions between SQLite files: consistent snapshots of a
 * database someone else may be writing, and merges by primary key. Used by
 * migrate, backup and import through `SqliteStore`; the only SQL they need.
 */

/** Pages per backup step: large enough that a writer in another process cannot restart the copy forever. */
const ALL_PAGES = 0x7fffffff
/** Shown in full; further conflicts of a session are only counted. */
const MAX_CONFLICT_LINES = 5

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

type SessionRow = Pick<FullSessionRow, 'id' | 'workspace_dir' | 'created_at' | 'device_id'>

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

  const plan = (input: SessionTransfer) => {
    const { session } = input
    const conflicts: string[] = []
    const existing = getSession.get(session.id) as SessionRow | undefined
    if (existing === undefined) {
      const owner = folderOwner.get(session.workspaceDir) as string | undefined
      if (owner !== undefined) conflicts.push(`its folder ${session.workspaceDir} already belongs to session ${owner}`)
    } else if (existing.created_at !== session.createdAt || existing.device_id !== session.deviceId) {
      conflicts.push(
        `a different session with this id exists (created ${existing.created_at ?? 'at an unknown time'} ` +
          `on device ${existing.device_id ?? 'unknown'}, not ${session.createdAt ?? 'unknown'} on ${session.deviceId ?? 'unknown'})`,
      )
    }
    const events: StoredEvent[] = []
    let identical = 0
    const seqs = new Set<number>()
    for (const event of input.events) {
      if (event.sessionId !== session.id) {
        throw new TypeError(`event ${event.id} belongs to session ${event.sessionId}, not ${session.id}`)
      }
      if (seqs.has(event.seq)) conflicts.push(`two events to merge hold position ${event.seq}`)
      seqs.add(event.seq)
      const stored = getEvent.get(event.id) as EventRow | undefined
      if (stored !== undefined) {
        if (sameEvent(stored, event)) identical++
        else
          conflicts.push(
            `event ${event.id} exists with different content (session ${stored.session_id}, position ${stored.seq})`,
          )
        continue
      }
      const holder = existing === undefined ? undefined : (seqHolder.get(session.id, event.seq) as string | undefined)
      if (holder !== undefined) conflicts.push(`position ${event.seq} already holds another event (${holder})`)
      else events.push(event)
    }
    const shares: ShareRecord[] = []
    for (const share of input.shares ?? []) {
      const owner = getShareSession.get(share.token) as string | undefined
      if (owner === undefined) shares.push(share)
      else if (owner !== session.id)
        conflicts.push(`share token ${share.token.slice(0, 8)}… belongs to session ${owner}`)
    }
    return { existing, events, identical, shares, conflicts }
  }

  const write = (input: SessionTransfer, dryRun: boolean): SessionMergeResult => {
    const planned = plan(input)
    const result: SessionMergeResult = {
      outcome: 'identical',
      eventsInserted: 0,
      eventsIdentical: planned.identical,
      sharesInserted: 0,
      conflicts: summarize(planned.conflicts),
    }
    if (planned.conflicts.length > 0) return { ...result, outcome: 'conflict' }
    const { session } = input
    if (!dryRun) {
      if (planned.existing === undefined) {
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
    const added = planned.events.length + planned.shares.length
    return {
      ...result,
      outcome: planned.existing === undefined ? 'inserted' : added > 0 ? 'extended' : 'identical',
      eventsInserted: planned.events.length,
      sharesInserted: planned.shares.length,
    }
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

function sameEvent(row: EventRow, event: StoredEvent): boolean {
  return (
    row.session_id === event.sessionId &&
    row.seq === event.seq &&
    row.timestamp === event.timestamp &&
    row.event_type === event.type &&
    row.event_payload === event.payload
  )
}

function summarize(conflicts: string[]): string[] {
  if (conflicts.length <= MAX_CONFLICT_LINES) return conflicts
  return [...conflicts.slice(0, MAX_CONFLICT_LINES), `and ${conflicts.length - MAX_CONFLICT_LINES} more conflicts`]
}

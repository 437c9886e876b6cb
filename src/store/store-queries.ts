import { type Kysely, sql } from 'kysely'
import { dbTimestamp } from '../core/time.js'
import { decodeSessionCursor, encodeSessionCursor } from './cursor.js'
import { clamp, firstMessageText, sessionNotFound, toSession, toShare } from './rows.js'
import type { Database } from './schema.js'
import type { ShareStore } from './store.js'
import type {
  EventPage,
  NewSession,
  Page,
  RunLease,
  SessionListItem,
  SessionRecord,
  SessionStatus,
  ShareRecord,
  StoreCounts,
  StoredEvent,
} from './types.js'

/**
 * The Kysely queries the SQLite and PostgreSQL stores share word for word:
 * both run them over `Kysely<Database>` and get the same rows (every text
 * column sorts bytewise on both). What differs stays in each store: error
 * mapping (postgres-errors.ts, sqlite-database.ts), SQLite's synchronous
 * prepared statements, PostgreSQL's array parameters and server-side SQL.
 * A write here throws the driver's error as it is, for the store to map.
 */

export const DEFAULT_EVENT_PAGE = 1000
export const MAX_EVENT_PAGE = 10_000
export const DEFAULT_SESSION_PAGE = 50
export const MAX_SESSION_PAGE = 200

type Db = Kysely<Database>

/** Columns `updateSession` may change; `updated_at` is always set with them. */
export interface SessionChanges {
  name?: string
  summary?: string
  status?: SessionStatus
  run_owner?: string | null
  lease_expires_at?: number | null
}

export type NewShare = Parameters<ShareStore['createShare']>[0]

export async function insertSession(db: Db, input: NewSession): Promise<void> {
  const createdAt = input.createdAt ?? dbTimestamp()
  await db
    .insertInto('session')
    .values({
      id: input.id,
      workspace_dir: input.workspaceDir,
      created_at: createdAt,
      device_id: input.deviceId,
      summary: null,
      name: input.name ?? null,
      status: 'idle',
      updated_at: createdAt,
      label: input.label ?? null,
    })
    .execute()
}

export async function selectSession(db: Db, id: string): Promise<SessionRecord | null> {
  const row = await db.selectFrom('session').selectAll().where('id', '=', id).executeTakeFirst()
  return row ? toSession(row) : null
}

/**
 * One page of a device's sessions, newest first, each with its first user
 * message; the cursor is the (created_at, id) of the last row shown.
 * A cursor this server did not hand out throws INVALID_CURSOR.
 */
export async function selectSessionPage(
  db: Db,
  deviceId: string,
  options: { limit?: number; cursor?: string | null; label?: string | null },
): Promise<Page<SessionListItem>> {
  const limit = clamp(options.limit ?? DEFAULT_SESSION_PAGE, 1, MAX_SESSION_PAGE)
  let query = db
    .selectFrom('session as s')
    .selectAll('s')
    .select((eb) =>
      eb
        .selectFrom('event as e')
        .select('e.event_payload')
        .whereRef('e.session_id', '=', 's.id')
        .where('e.event_type', '=', 'user_message')
        .orderBy('e.seq')
        .limit(1)
        .as('first_payload'),
    )
    .where('s.device_id', '=', deviceId)
  if (options.label) query = query.where('s.label', '=', options.label)
  if (options.cursor) {
    const after = decodeSessionCursor(options.cursor)
    query = query.where((eb) =>
      eb.or([
        eb('s.created_at', '<', after.createdAt),
        eb.and([eb('s.created_at', '=', after.createdAt), eb('s.id', '<', after.id)]),
      ]),
    )
  }
  const rows = await query
    .orderBy('s.created_at', 'desc')
    .orderBy('s.id', 'desc')
    .limit(limit + 1)
    .execute()
  const items = rows.slice(0, limit).map((row) => ({
    ...toSession(row),
    firstMessage: firstMessageText(row.first_payload ?? null),
  }))
  const last = items[items.length - 1]
  const nextCursor =
    rows.length > limit && last ? encodeSessionCursor({ createdAt: last.createdAt ?? '', id: last.id }) : null
  return { items, nextCursor }
}

export async function selectSessionsWithStatus(db: Db, status: SessionStatus): Promise<SessionRecord[]> {
  const rows = await db.selectFrom('session').selectAll().where('status', '=', status).execute()
  return rows.map(toSession)
}

/** Sets `changes` and `updated_at`; SESSION_NOT_FOUND when no row has the id. */
export async function updateSessionRow(db: Db, id: string, changes: SessionChanges): Promise<void> {
  const result = await db
    .updateTable('session')
    .set({ ...changes, updated_at: dbTimestamp() })
    .where('id', '=', id)
    .executeTakeFirst()
  if (result.numUpdatedRows === 0n) throw sessionNotFound(id)
}

/** SESSION_NOT_FOUND when no row has the id; a folder another session uses fails on the unique index. */
export async function updateWorkspaceDir(db: Db, id: string, workspaceDir: string): Promise<void> {
  const result = await db
    .updateTable('session')
    .set({ workspace_dir: workspaceDir })
    .where('id', '=', id)
    .executeTakeFirst()
  if (result.numUpdatedRows === 0n) throw sessionNotFound(id)
}

export async function selectSessionRefs(db: Db): Promise<{ id: string; workspaceDir: string }[]> {
  const rows = await db.selectFrom('session').select(['id', 'workspace_dir']).execute()
  return rows.map((row) => ({ id: row.id, workspaceDir: row.workspace_dir }))
}

/** Every session in id order, a page at a time (migration, export). */
export async function scanSessionRows(
  db: Db,
  options: { after?: string | null; limit?: number },
): Promise<SessionRecord[]> {
  let query = db.selectFrom('session').selectAll()
  if (options.after) query = query.where('id', '>', options.after)
  const rows = await query
    .orderBy('id')
    .limit(clamp(options.limit ?? MAX_SESSION_PAGE, 1, MAX_EVENT_PAGE))
    .execute()
  return rows.map(toSession)
}

/** Sessions last changed before `before` (a session never updated counts from its creation), oldest first. */
export async function selectSessionsUpdatedBefore(db: Db, before: string): Promise<SessionRecord[]> {
  const rows = await db
    .selectFrom('session')
    .selectAll()
    .where(sql<string>`coalesce(updated_at, created_at)`, '<', before)
    .orderBy(sql`coalesce(updated_at, created_at)`)
    .orderBy('id')
    .execute()
  return rows.map(toSession)
}

/** count(*) is a number on SQLite and a bigint string on PostgreSQL. */
export async function countSessionEvents(db: Db, sessionId: string): Promise<number> {
  const row = await db
    .selectFrom('event')
    .select(sql<number | string>`count(*)`.as('n'))
    .where('session_id', '=', sessionId)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Both counts in one statement, so they describe the same moment. */
export async function countRows(db: Db): Promise<StoreCounts> {
  const result = await sql<{ sessions: number | string; events: number | string }>`
    SELECT (SELECT count(*) FROM session) AS sessions, (SELECT count(*) FROM event) AS events`.execute(db)
  const row = result.rows[0]
  return { sessions: Number(row?.sessions ?? 0), events: Number(row?.events ?? 0) }
}

/**
 * A page of a session's events after `options.after`, from the store's own
 * read (`read` fetches up to `limit` events after a seq): one more than the
 * page is read to know whether another page follows.
 */
export async function readEventPage(
  options: { after?: number; limit?: number },
  read: (after: number, limit: number) => StoredEvent[] | Promise<StoredEvent[]>,
): Promise<EventPage> {
  const limit = clamp(options.limit ?? DEFAULT_EVENT_PAGE, 1, MAX_EVENT_PAGE)
  const events = await read(options.after ?? 0, limit + 1)
  const page = events.slice(0, limit)
  const last = page[page.length - 1]
  return { events: page, nextAfter: events.length > limit && last ? last.seq : null }
}

/** An unknown session fails on the foreign key, for the store to report as SESSION_NOT_FOUND. */
export async function insertShare(db: Db, input: NewShare): Promise<ShareRecord> {
  const row = {
    token: input.token,
    session_id: input.sessionId,
    created_at: dbTimestamp(),
    expires_at: input.expiresAt,
    revoked_at: null,
    created_by: input.createdBy,
  }
  await db.insertInto('share_link').values(row).execute()
  return toShare(row)
}

export async function selectShare(db: Db, token: string): Promise<ShareRecord | null> {
  const row = await db.selectFrom('share_link').selectAll().where('token', '=', token).executeTakeFirst()
  return row ? toShare(row) : null
}

export async function selectShares(db: Db, sessionId: string): Promise<ShareRecord[]> {
  const rows = await db
    .selectFrom('share_link')
    .selectAll()
    .where('session_id', '=', sessionId)
    .orderBy('created_at', 'desc')
    .execute()
  return rows.map(toShare)
}

/** Marks the link revoked now unless it already is (the first revocation's time stays). */
export async function markShareRevoked(db: Db, token: string): Promise<void> {
  await db
    .updateTable('share_link')
    .set({ revoked_at: dbTimestamp() })
    .where('token', '=', token)
    .where('revoked_at', 'is', null)
    .execute()
}

/** Runs marked running whose lease is past its expiry (or never had one), in id order. */
export async function selectLapsedRuns(db: Db, nowMs: number): Promise<RunLease[]> {
  const rows = await db
    .selectFrom('session')
    .select(['id', 'run_owner', 'run_epoch', 'lease_expires_at'])
    .where('status', '=', 'running')
    .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', nowMs)]))
    .orderBy('id')
    .execute()
  return rows.map((row) => ({
    sessionId: row.id,
    owner: row.run_owner ?? '',
    epoch: Number(row.run_epoch),
    expiresAt: Number(row.lease_expires_at ?? 0),
  }))
}

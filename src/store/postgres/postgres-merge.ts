import type pg from 'pg'
import type { EventRow } from '../schema.js'
import type { SessionMergeResult, SessionTransfer, ShareRecord, StoredEvent } from '../types.js'
import { FENCE_APPENDS_IF_SESSION } from './append-fence.js'
import { mapPostgresError, pgCode, UNIQUE_VIOLATION } from './postgres-errors.js'

/** Shown in full; further conflicts of a session are only counted (as on SQLite, sqlite-transfer.ts). */
const MAX_CONFLICT_LINES = 5

interface ExistingSession {
  id: string
  workspace_dir: string
  created_at: string | null
  device_id: string | null
}

/**
 * `Store.mergeSession` on PostgreSQL: the same plan as SQLite's merger
 * (src/store/sqlite/sqlite-transfer.ts), with set-based reads (one query per
 * kind of row, not one per event) inside the transaction that writes, under
 * a lock on the session row so another merge cannot interleave, after fencing
 * appends when the session exists (append-fence.ts) so none interleaves either.
 */
export async function mergeSessionPostgres(
  pool: pg.Pool,
  where: string,
  input: SessionTransfer,
  dryRun: boolean,
): Promise<SessionMergeResult> {
  const { session } = input
  for (const event of input.events) {
    if (event.sessionId !== session.id) {
      throw new TypeError(`event ${event.id} belongs to session ${event.sessionId}, not ${session.id}`)
    }
  }
  let client: pg.PoolClient
  try {
    client = await pool.connect()
  } catch (error) {
    throw mapPostgresError(error, where)
  }
  let broken: Error | undefined
  try {
    await client.query(dryRun ? 'BEGIN READ ONLY' : 'BEGIN')
    // Extending a session: fence before its row is locked (append-fence.ts), so appenders everywhere read its
    // numbers afresh. A new session (an import, most of a migration) needs no fence and stalls no append.
    if (!dryRun) await client.query(FENCE_APPENDS_IF_SESSION, [session.id])
    const planned = await plan(client, input, dryRun)
    const result: SessionMergeResult = {
      outcome: 'identical',
      eventsInserted: 0,
      eventsIdentical: planned.identical,
      sharesInserted: 0,
      conflicts: summarize(planned.conflicts),
    }
    if (planned.conflicts.length > 0) {
      await client.query('ROLLBACK')
      return { ...result, outcome: 'conflict' }
    }
    if (!dryRun) await write(client, input, planned)
    await client.query(dryRun ? 'ROLLBACK' : 'COMMIT')
    const added = planned.events.length + planned.shares.length
    return {
      ...result,
      outcome: planned.existing === undefined ? 'inserted' : added > 0 ? 'extended' : 'identical',
      eventsInserted: planned.events.length,
      sharesInserted: planned.shares.length,
    }
  } catch (error) {
    try {
      await client.query('ROLLBACK')
    } catch (rollbackError) {
      broken = rollbackError as Error
    }
    // Another merge inserted the same session or rows meanwhile: its outcome is a conflict, as if seen first.
    if (pgCode(error) === UNIQUE_VIOLATION) {
      return {
        outcome: 'conflict',
        eventsInserted: 0,
        eventsIdentical: 0,
        sharesInserted: 0,
        conflicts: [`a row of this session was written at the same time by someone else (${(error as Error).message})`],
      }
    }
    throw mapPostgresError(error, where)
  } finally {
    client.release(broken)
  }
}

async function plan(client: pg.PoolClient, input: SessionTransfer, dryRun: boolean) {
  const { session } = input
  const conflicts: string[] = []
  const existing = (
    await client.query<ExistingSession>(
      `SELECT id, workspace_dir, created_at, device_id FROM session WHERE id = $1${dryRun ? '' : ' FOR UPDATE'}`,
      [session.id],
    )
  ).rows[0]
  if (existing === undefined) {
    const owner = (
      await client.query<{ id: string }>('SELECT id FROM session WHERE workspace_dir = $1', [session.workspaceDir])
    ).rows[0]?.id
    if (owner !== undefined) conflicts.push(`its folder ${session.workspaceDir} already belongs to session ${owner}`)
  } else if (existing.created_at !== session.createdAt || existing.device_id !== session.deviceId) {
    conflicts.push(
      `a different session with this id exists (created ${existing.created_at ?? 'at an unknown time'} ` +
        `on device ${existing.device_id ?? 'unknown'}, not ${session.createdAt ?? 'unknown'} on ${session.deviceId ?? 'unknown'})`,
    )
  }

  const stored = new Map<string, EventRow>()
  const ids = input.events.map((event) => event.id)
  if (ids.length > 0) {
    const rows = await client.query<EventRow>(
      'SELECT id, session_id, seq, timestamp, event_type, event_payload FROM event WHERE id = ANY($1::text[])',
      [ids],
    )
    for (const row of rows.rows) stored.set(row.id, row)
  }
  const holders = new Map<number, string>()
  if (existing !== undefined && input.events.length > 0) {
    const rows = await client.query<{ seq: number; id: string }>(
      'SELECT seq, id FROM event WHERE session_id = $1 AND seq = ANY($2::int[])',
      [session.id, input.events.map((event) => event.seq)],
    )
    for (const row of rows.rows) holders.set(Number(row.seq), row.id)
  }

  const events: StoredEvent[] = []
  let identical = 0
  const seqs = new Set<number>()
  for (const event of input.events) {
    if (seqs.has(event.seq)) conflicts.push(`two events to merge hold position ${event.seq}`)
    seqs.add(event.seq)
    const row = stored.get(event.id)
    if (row !== undefined) {
      if (sameEvent(row, event)) identical++
      else
        conflicts.push(
          `event ${event.id} exists with different content (session ${row.session_id}, position ${row.seq})`,
        )
      continue
    }
    const holder = holders.get(event.seq)
    if (holder !== undefined) conflicts.push(`position ${event.seq} already holds another event (${holder})`)
    else events.push(event)
  }

  const shares: ShareRecord[] = []
  const tokens = (input.shares ?? []).map((share) => share.token)
  const owners = new Map<string, string>()
  if (tokens.length > 0) {
    const rows = await client.query<{ token: string; session_id: string }>(
      'SELECT token, session_id FROM share_link WHERE token = ANY($1::text[])',
      [tokens],
    )
    for (const row of rows.rows) owners.set(row.token, row.session_id)
  }
  for (const share of input.shares ?? []) {
    const owner = owners.get(share.token)
    if (owner === undefined) shares.push(share)
    else if (owner !== session.id) conflicts.push(`share token ${share.token.slice(0, 8)}… belongs to session ${owner}`)
  }
  return { existing, events, identical, shares, conflicts }
}

async function write(
  client: pg.PoolClient,
  input: SessionTransfer,
  planned: Awaited<ReturnType<typeof plan>>,
): Promise<void> {
  const { session } = input
  if (planned.existing === undefined) {
    await client.query(
      `INSERT INTO session (id, workspace_dir, created_at, device_id, summary, name, status, updated_at, label)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        session.id,
        session.workspaceDir,
        session.createdAt,
        session.deviceId,
        session.summary,
        session.name,
        session.status,
        session.updatedAt,
        session.label,
      ],
    )
  }
  const events = planned.events
  // Bounded statements: a session with a very long log is written a few thousand rows at a time.
  for (let i = 0; i < events.length; i += 5000) {
    const chunk = events.slice(i, i + 5000)
    await client.query(
      'INSERT INTO event (id, session_id, timestamp, event_type, event_payload, seq) ' +
        'SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[])',
      [
        chunk.map((e) => e.id),
        chunk.map((e) => e.sessionId),
        chunk.map((e) => e.timestamp),
        chunk.map((e) => e.type),
        chunk.map((e) => e.payload),
        chunk.map((e) => e.seq),
      ],
    )
  }
  for (const share of planned.shares) {
    await client.query(
      `INSERT INTO share_link (token, session_id, created_at, expires_at, revoked_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [share.token, session.id, share.createdAt, share.expiresAt, share.revokedAt, share.createdBy],
    )
  }
}

function sameEvent(row: EventRow, event: StoredEvent): boolean {
  return (
    row.session_id === event.sessionId &&
    Number(row.seq) === event.seq &&
    row.timestamp === event.timestamp &&
    row.event_type === event.type &&
    row.event_payload === event.payload
  )
}

function summarize(conflicts: string[]): string[] {
  if (conflicts.length <= MAX_CONFLICT_LINES) return conflicts
  return [...conflicts.slice(0, MAX_CONFLICT_LINES), `and ${conflicts.length - MAX_CONFLICT_LINES} more conflicts`]
}

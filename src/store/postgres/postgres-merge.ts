import type pg from 'pg'
import {
  assertOneSession,
  type ExistingSession,
  type MergeFindings,
  type MergePlan,
  mergeResult,
  planMerge,
} from '../merge-plan.js'
import type { EventRow } from '../schema.js'
import type { SessionMergeResult, SessionTransfer } from '../types.js'
import { FENCE_APPENDS_IF_SESSION } from './append-fence.js'
import { mapPostgresError, pgCode, UNIQUE_VIOLATION } from './postgres-errors.js'

/**
 * `Store.mergeSession` on PostgreSQL: the same plan as SQLite's merger
 * (src/store/merge-plan.ts), with set-based reads (one query per
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
  assertOneSession(input)
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
    const planned = planMerge(input, await findings(client, input, dryRun))
    if (planned.conflicts.length === 0 && !dryRun) await write(client, input, planned)
    await client.query(planned.conflicts.length === 0 && !dryRun ? 'COMMIT' : 'ROLLBACK')
    return mergeResult(planned)
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

/** What the target holds that the merge is checked against: one query per kind of row; the session row locked. */
async function findings(client: pg.PoolClient, input: SessionTransfer, dryRun: boolean): Promise<MergeFindings> {
  const { session } = input
  const existing = (
    await client.query<ExistingSession>(
      `SELECT created_at, device_id FROM session WHERE id = $1${dryRun ? '' : ' FOR UPDATE'}`,
      [session.id],
    )
  ).rows[0]
  const folderOwner =
    existing === undefined
      ? (await client.query<{ id: string }>('SELECT id FROM session WHERE workspace_dir = $1', [session.workspaceDir]))
          .rows[0]?.id
      : undefined

  const storedEvents = new Map<string, EventRow>()
  const ids = input.events.map((event) => event.id)
  if (ids.length > 0) {
    const rows = await client.query<EventRow>(
      'SELECT id, session_id, seq, timestamp, event_type, event_payload FROM event WHERE id = ANY($1::text[])',
      [ids],
    )
    for (const row of rows.rows) storedEvents.set(row.id, row)
  }
  const seqHolders = new Map<number, string>()
  if (existing !== undefined && input.events.length > 0) {
    const rows = await client.query<{ seq: number; id: string }>(
      'SELECT seq, id FROM event WHERE session_id = $1 AND seq = ANY($2::int[])',
      [session.id, input.events.map((event) => event.seq)],
    )
    for (const row of rows.rows) seqHolders.set(Number(row.seq), row.id)
  }

  const shareOwners = new Map<string, string>()
  const tokens = (input.shares ?? []).map((share) => share.token)
  if (tokens.length > 0) {
    const rows = await client.query<{ token: string; session_id: string }>(
      'SELECT token, session_id FROM share_link WHERE token = ANY($1::text[])',
      [tokens],
    )
    for (const row of rows.rows) shareOwners.set(row.token, row.session_id)
  }
  return { existing, folderOwner, storedEvents, seqHolders, shareOwners }
}

async function write(client: pg.PoolClient, input: SessionTransfer, planned: MergePlan): Promise<void> {
  const { session } = input
  if (!planned.sessionExists) {
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

import type { EventRow } from './schema.js'
import type { SessionMergeResult, SessionTransfer, ShareRecord, StoredEvent } from './types.js'

/** Shown in full; further conflicts of a session are only counted. */
const MAX_CONFLICT_LINES = 5

/** The target's row of the session being merged, as far as the checks need it. */
export interface ExistingSession {
  created_at: string | null
  device_id: string | null
}

/**
 * What the target database holds that a merge is checked against, read by
 * each backend its own way (SQLite row by row on prepared statements,
 * PostgreSQL one set-based query per kind), inside the transaction that writes.
 */
export interface MergeFindings {
  /** The session with this id, if the target has one. */
  existing: ExistingSession | undefined
  /** The session that already uses the merged session's folder (asked only when the id is new). */
  folderOwner: string | undefined
  /** Stored events with the ids of the merged ones. */
  storedEvents: ReadonlyMap<string, EventRow>
  /** Event id at each position of the existing session that a merged event wants. */
  seqHolders: ReadonlyMap<number, string>
  /** The session each already stored share token belongs to. */
  shareOwners: ReadonlyMap<string, string>
}

export interface MergePlan {
  /** Events to insert: new ids at free positions. */
  events: StoredEvent[]
  /** Events already there byte for byte. */
  identical: number
  shares: ShareRecord[]
  conflicts: string[]
  /** Whether the session row is there already (nothing to insert for it). */
  sessionExists: boolean
}

/** Refuse a transfer whose events name another session: a caller's bug, not a conflict in the data. */
export function assertOneSession(input: SessionTransfer): void {
  for (const event of input.events) {
    if (event.sessionId !== input.session.id) {
      throw new TypeError(`event ${event.id} belongs to session ${event.sessionId}, not ${input.session.id}`)
    }
  }
}

/**
 * `Store.mergeSession`'s decisions, the same on every backend: a session id
 * taken by a different session, a folder of another session, an event id
 * with other content, a position held by another event, or a share token of
 * another session is a conflict (and nothing is written); what is there
 * already byte for byte is counted as identical; the rest is inserted.
 */
export function planMerge(input: SessionTransfer, found: MergeFindings): MergePlan {
  const { session } = input
  const conflicts: string[] = []
  const { existing } = found
  if (existing === undefined) {
    if (found.folderOwner !== undefined) {
      conflicts.push(`its folder ${session.workspaceDir} already belongs to session ${found.folderOwner}`)
    }
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
    if (seqs.has(event.seq)) conflicts.push(`two events to merge hold position ${event.seq}`)
    seqs.add(event.seq)
    const stored = found.storedEvents.get(event.id)
    if (stored !== undefined) {
      if (sameEvent(stored, event)) identical++
      else
        conflicts.push(
          `event ${event.id} exists with different content (session ${stored.session_id}, position ${stored.seq})`,
        )
      continue
    }
    const holder = existing === undefined ? undefined : found.seqHolders.get(event.seq)
    if (holder !== undefined) conflicts.push(`position ${event.seq} already holds another event (${holder})`)
    else events.push(event)
  }

  const shares: ShareRecord[] = []
  for (const share of input.shares ?? []) {
    const owner = found.shareOwners.get(share.token)
    if (owner === undefined) shares.push(share)
    else if (owner !== session.id) conflicts.push(`share token ${share.token.slice(0, 8)}… belongs to session ${owner}`)
  }
  return { events, identical, shares, conflicts, sessionExists: existing !== undefined }
}

/** What `mergeSession` answers for a plan, written (or, in a dry run, that would be written). */
export function mergeResult(planned: MergePlan): SessionMergeResult {
  const conflicts =
    planned.conflicts.length <= MAX_CONFLICT_LINES
      ? planned.conflicts
      : [
          ...planned.conflicts.slice(0, MAX_CONFLICT_LINES),
          `and ${planned.conflicts.length - MAX_CONFLICT_LINES} more conflicts`,
        ]
  if (planned.conflicts.length > 0) {
    return { outcome: 'conflict', eventsInserted: 0, eventsIdentical: planned.identical, sharesInserted: 0, conflicts }
  }
  const added = planned.events.length + planned.shares.length
  return {
    outcome: !planned.sessionExists ? 'inserted' : added > 0 ? 'extended' : 'identical',
    eventsInserted: planned.events.length,
    eventsIdentical: planned.identical,
    sharesInserted: planned.shares.length,
    conflicts,
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

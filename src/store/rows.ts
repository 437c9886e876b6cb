import { BerthError } from '../core/errors.js'
import type { EventRow, SessionRow, ShareLinkRow } from './schema.js'
import type { SessionRecord, SessionStatus, ShareRecord, StoredEvent } from './types.js'

/** Rows as every store backend hands them out (bigint columns arrive as strings from pg, hence `Number`). */
export function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    workspaceDir: row.workspace_dir,
    createdAt: row.created_at,
    deviceId: row.device_id,
    summary: row.summary,
    name: row.name,
    status: (row.status as SessionStatus) ?? 'idle',
    updatedAt: row.updated_at,
    label: row.label ?? null,
    runOwner: row.run_owner ?? null,
  }
}

export function toShare(row: ShareLinkRow): ShareRecord {
  return {
    token: row.token,
    sessionId: row.session_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    createdBy: row.created_by,
  }
}

export function toEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    sessionId: row.session_id,
    seq: Number(row.seq),
    timestamp: row.timestamp,
    type: row.event_type,
    payload: row.event_payload,
  }
}

/** `content.text` of a stored `user_message` payload, as the reference computes a session's first message. */
export function firstMessageText(payload: string | null): string | null {
  if (payload === null) return null
  try {
    const text = (JSON.parse(payload) as { content?: { text?: unknown } }).content?.text
    return typeof text === 'string' ? text : null
  } catch {
    return null
  }
}

export function sessionNotFound(id: string): BerthError {
  return new BerthError('SESSION_NOT_FOUND', `No session with id ${id}.`, { details: { sessionId: id } })
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.trunc(value)))
}

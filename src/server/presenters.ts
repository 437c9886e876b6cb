import { isoUtc } from '../core/time.js'
import type { SessionListItem, SessionRecord, ShareRecord, StoredEvent } from '../store/types.js'
import type { Workspaces } from '../workspace/workspaces.js'

/**
 * JSON shapes of the API. Field names follow the reference system
 * (snake_case, `workspace_dir`, `event_payload`); berth's additions sit
 * beside them. Times are ISO 8601 UTC with an explicit `+00:00`.
 */
export function presentSession(session: SessionRecord | SessionListItem, workspaces: Workspaces) {
  const firstMessage = 'firstMessage' in session ? session.firstMessage : undefined
  return {
    id: session.id,
    workspace_dir: safeDir(workspaces, session),
    created_at: isoUtc(session.createdAt),
    device_id: session.deviceId,
    summary: session.summary,
    ...(firstMessage !== undefined ? { first_message: firstMessage } : {}),
    name: session.name,
    status: session.status,
    updated_at: isoUtc(session.updatedAt),
    label: session.label,
    title: session.name ?? session.summary ?? firstMessage ?? null,
  }
}

export function presentEvent(event: StoredEvent, workspaceDir?: string) {
  return {
    id: event.id,
    session_id: event.sessionId,
    seq: event.seq,
    timestamp: isoUtc(event.timestamp),
    event_type: event.type,
    event_payload: JSON.parse(event.payload) as unknown,
    ...(workspaceDir !== undefined ? { workspace_dir: workspaceDir } : {}),
  }
}

const frames = new WeakMap<StoredEvent, Buffer>()

/**
 * A stored event as a WebSocket frame: the reference `{type, content}` plus
 * where it sits in the log. Built once per event, however many viewers get it.
 */
export function eventFrame(event: StoredEvent): Buffer {
  let frame = frames.get(event)
  if (!frame) {
    // The payload is already `{"type": …, "content": …}`; splice the extras in without re-serialising it.
    const extras = `"id": ${JSON.stringify(event.id)}, "seq": ${event.seq}, "session_id": ${JSON.stringify(event.sessionId)}, "timestamp": ${JSON.stringify(isoUtc(event.timestamp))}, `
    frame = Buffer.from(`{${extras}${event.payload.slice(1)}`, 'utf8')
    frames.set(event, frame)
  }
  return frame
}

export function presentShare(share: ShareRecord, baseUrl: string) {
  return {
    token: share.token,
    url: `${baseUrl}/share/${share.token}`,
    session_id: share.sessionId,
    created_at: isoUtc(share.createdAt),
    expires_at: isoUtc(share.expiresAt),
    revoked_at: isoUtc(share.revokedAt),
    active: isShareActive(share),
  }
}

export function isShareActive(share: ShareRecord, now = new Date()): boolean {
  if (share.revokedAt !== null) return false
  if (share.expiresAt === null) return true
  return new Date(isoUtc(share.expiresAt) ?? 0).getTime() > now.getTime()
}

function safeDir(workspaces: Workspaces, session: SessionRecord): string {
  try {
    return workspaces.dirFor(session.id, session.workspaceDir)
  } catch {
    return session.workspaceDir
  }
}

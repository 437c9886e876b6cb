/** What the store hands out. Field names are berth's; the columns behind them are the reference system's. */

export type SessionStatus = 'idle' | 'running' | 'interrupted'

export interface SessionRecord {
  id: string
  /** Absolute path as stored (the reference keeps it); the workspace module finds the folder by id. */
  workspaceDir: string
  /** Stored form, naive UTC `YYYY-MM-DD HH:MM:SS.ffffff`. */
  createdAt: string | null
  deviceId: string | null
  summary: string | null
  name: string | null
  status: SessionStatus
  updatedAt: string | null
}

export interface SessionListItem extends SessionRecord {
  /** `content.text` of the earliest `user_message`, as the reference computes it. */
  firstMessage: string | null
}

export interface StoredEvent {
  id: string
  sessionId: string
  /** Per-session position, 1, 2, 3…; the cursor for paging, reconnects and replay. */
  seq: number
  timestamp: string | null
  type: string
  /** The stored JSON text of `{"type": …, "content": …}`, byte for byte. */
  payload: string
}

export interface NewEvent {
  type: string
  content: unknown
  /** Defaults to a fresh uuid4. */
  id?: string
  /** Defaults to now. */
  timestamp?: string
}

export interface NewSession {
  id: string
  workspaceDir: string
  deviceId: string | null
  name?: string | null
  createdAt?: string
}

export interface Page<T> {
  items: T[]
  /** Pass back to get the next page; null when this was the last one. */
  nextCursor: string | null
}

export interface EventPage {
  events: StoredEvent[]
  /** The `seq` to pass as `after` for the next page; null when no more events are stored. */
  nextAfter: number | null
}

export interface StoreCounts {
  sessions: number
  events: number
}

export interface Subscription {
  close(): void
}

export type EventListener = (event: StoredEvent) => void

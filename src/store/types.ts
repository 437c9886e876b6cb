/** What the store hands out. Field names are berth's; the columns behind them are the reference system's. */

export type SessionStatus = 'idle' | 'running' | 'interrupted'

export interface SessionRecord {
  id: string
  /**
   * Stored as the reference stores it (an absolute path), for compatibility,
   * and never used as a path: only src/workspace reads it, to find the
   * workspace's key (`workspaceKey`: the session id, or this value's last
   * segment for GAIA task folders). Files are reached through WorkspaceStorage.
   */
  workspaceDir: string
  /** Stored form, naive UTC `YYYY-MM-DD HH:MM:SS.ffffff`. */
  createdAt: string | null
  deviceId: string | null
  summary: string | null
  name: string | null
  status: SessionStatus
  updatedAt: string | null
  /** A grouping label, e.g. `gaia:<run name>` for the sessions of one eval run. */
  label: string | null
  /** `host/pid` of the process running it, while `status` is `running`. */
  runOwner: string | null
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

export interface AppendOptions {
  /** The run lease's epoch the writer holds; the append is refused if the lease moved on. */
  epoch?: number
}

/** A session's run lease as its holder knows it (see `RunLeases` in store.ts). */
export interface RunLease {
  sessionId: string
  /** `host/pid` of the holder. */
  owner: string
  epoch: number
  /** Milliseconds since the Unix epoch. */
  expiresAt: number
}

export interface NewSession {
  id: string
  workspaceDir: string
  deviceId: string | null
  name?: string | null
  createdAt?: string
  label?: string | null
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

/** A read-only link to a session: the random token is the credential, not the session id. */
export interface ShareRecord {
  token: string
  sessionId: string
  createdAt: string
  expiresAt: string | null
  revokedAt: string | null
  createdBy: string | null
}

/** One session exactly as another store holds it, for moving it between stores (migrate, import). */
export interface SessionTransfer {
  session: SessionRecord
  /** Events as stored: ids, seq, timestamps and payload text are kept byte for byte. */
  events: readonly StoredEvent[]
  /** The session's share links; a token already present for the same session is left as the target has it. */
  shares?: readonly ShareRecord[]
}

/** What `mergeSession` did, or with `dryRun` would do, with one session from another store. */
export interface SessionMergeResult {
  /**
   * `inserted`: the session was new; `extended`: it existed and rows were added;
   * `identical`: everything was already there; `conflict`: nothing was written.
   */
  outcome: 'inserted' | 'extended' | 'identical' | 'conflict'
  eventsInserted: number
  eventsIdentical: number
  sharesInserted: number
  /** One sentence per problem (at most a few, then a count); empty unless `conflict`. */
  conflicts: string[]
}

import type { TransientEvent } from '../core/events.js'
import type { WorkspaceFileIndex } from '../workspace/s3/file-index.js'
import type { SchemaState } from './migrations.js'
import type {
  AppendOptions,
  EventListener,
  EventPage,
  NewEvent,
  NewSession,
  Page,
  RunLease,
  SessionListItem,
  SessionMergeResult,
  SessionRecord,
  SessionStatus,
  SessionTransfer,
  ShareRecord,
  StoreCounts,
  StoredEvent,
  Subscription,
} from './types.js'

/** Sessions: their rows, names, status and folders. */
export interface SessionStore {
  createSession(input: NewSession): Promise<SessionRecord>
  getSession(id: string): Promise<SessionRecord | null>
  /** A device's sessions, newest first, with their first user message; constant number of queries per page. */
  listSessions(
    deviceId: string,
    options?: { limit?: number; cursor?: string | null; label?: string | null },
  ): Promise<Page<SessionListItem>>
  renameSession(id: string, name: string): Promise<SessionRecord>
  setSummary(id: string, summary: string): Promise<SessionRecord>
  /** `running` records which process runs it (`runOwner`, e.g. `host/pid`); any other status clears that. */
  setStatus(id: string, status: SessionStatus, runOwner?: string): Promise<void>
  /** Sessions whose status is `running`, e.g. left so by a process that died. */
  listSessionsWithStatus(status: SessionStatus): Promise<SessionRecord[]>
  /** Deletes the session row and its events. Only on an explicit user request; the caller removes the workspace. */
  deleteSession(id: string): Promise<{ eventsDeleted: number }>
  /** Every session's id and stored folder, for consistency checks (doctor, migrate). */
  sessionRefs(): Promise<{ id: string; workspaceDir: string }[]>
  /** Every session, ordered by id, one page at a time: pass the last id seen as `after` (migrate, backup). */
  scanSessions(options?: { after?: string | null; limit?: number }): Promise<SessionRecord[]>
  /** Sessions whose last change (`updated_at`, else `created_at`) is before `before` (stored form), oldest first. */
  sessionsUpdatedBefore(before: string): Promise<SessionRecord[]>
  /** Point a session at its folder after it moved to another root. */
  setWorkspaceDir(id: string, workspaceDir: string): Promise<void>
}

/**
 * The event log, the source of truth. Appends are durable when their promise
 * resolves (group commit: appends made together share one transaction and
 * one fsync). Followers see an event only after the transaction that stored
 * it has committed.
 */
export interface EventLog {
  /** With `epoch`, refused (`RUN_LEASE_LOST`) unless the session's run lease still has that epoch (see RunLeases). */
  append(sessionId: string, event: NewEvent, options?: AppendOptions): Promise<StoredEvent>
  appendMany(sessionId: string, events: NewEvent[], options?: AppendOptions): Promise<StoredEvent[]>
  /** Events with `seq > after`, in order, at most `limit` (default 1000); no cap on the total across pages. */
  readEvents(sessionId: string, options?: { after?: number; limit?: number }): Promise<EventPage>
  /** How many events a session has. */
  countEvents(sessionId: string): Promise<number>
  /** Stored events after `after`, then live ones as they commit: no gap, no duplicate. */
  follow(sessionId: string, after: number, listener: EventListener, onError?: (error: unknown) => void): Subscription
  /** Which of `ids` an event (of any session) already has. */
  existingEventIds(ids: readonly string[]): Promise<Set<string>>
}

/**
 * One owner per run, across processes and instances: a lease with an epoch.
 * Claiming bumps the epoch with a conditional update, so of two claimants
 * exactly one wins; appends made with the epoch (`AppendOptions.epoch`) are
 * checked in the same transaction, so an owner that lost its lease cannot
 * write. A lease that is not renewed lapses; any instance may then claim it
 * and close the run (src/agent/run-leases.ts).
 */
export interface RunLeases {
  /**
   * Mark the session `running` for `owner` under a new epoch, unless a live
   * lease holds it (null). A session running under a lapsed lease, or
   * without one, is claimed too (takeover). `SESSION_NOT_FOUND` when there
   * is no such session. `replacing` names an owner known to be dead (its
   * process is gone from this machine): its lease is taken at once instead
   * of after it lapses.
   */
  claimRun(sessionId: string, owner: string, ttlMs: number, options?: { replacing?: string }): Promise<RunLease | null>
  /** Push the expiry out; false when the lease is no longer this one (taken over or ended). */
  renewRun(lease: RunLease, ttlMs: number): Promise<boolean>
  /** Set the session's status and drop the lease, if it is still this one (false otherwise). */
  endRun(lease: RunLease, status: Exclude<SessionStatus, 'running'>): Promise<boolean>
  /**
   * Running sessions whose lease expired before `nowMs` (their owner stopped
   * renewing), and running sessions without a lease (left by an older berth,
   * `expiresAt` 0). Claiming either takes it over.
   */
  lapsedRuns(nowMs?: number): Promise<RunLease[]>
  /** Ask whichever process runs the session (on any instance) to cancel it. */
  requestCancel(sessionId: string): Promise<void>
  /** Cancel requests, for the run manager that may own the run; returns a function that stops listening. */
  onCancelRequest(listener: (sessionId: string) => void): () => void
}

/**
 * Live-only events (streamed tokens, shell output) of runs on other
 * instances, for their viewers here. Nothing is stored; a single-process
 * backend (SQLite) has no other instance and sends nothing.
 */
export interface LiveSignals {
  broadcastLive(sessionId: string, events: readonly TransientEvent[]): void
  /** Returns a function that stops listening. */
  onLive(listener: (sessionId: string, events: readonly TransientEvent[]) => void): () => void
}

/** Read-only share links of sessions. */
export interface ShareStore {
  createShare(input: {
    token: string
    sessionId: string
    expiresAt: string | null
    createdBy: string | null
  }): Promise<ShareRecord>
  getShare(token: string): Promise<ShareRecord | null>
  /** A session's links, newest first, revoked ones included. */
  listShares(sessionId: string): Promise<ShareRecord[]>
  revokeShare(token: string): Promise<ShareRecord | null>
}

/** What operators and the moving commands (migrate, backup, import, doctor) need of a database. */
export interface StoreMaintenance {
  readonly dialect: 'sqlite' | 'postgres'
  counts(): Promise<StoreCounts>
  /** The database's own consistency check; `['ok']` when sound. */
  checkIntegrity(): Promise<string[]>
  /**
   * Copy a session in from another store, merged by primary key and never
   * overwriting: a new session is inserted with its rows exactly as given;
   * an existing one only gains the events (and share links) it lacks. Any
   * conflict (a different session or event under the same id, a taken
   * `seq` or folder) writes nothing and is reported. One transaction.
   *
   * @example
   *   const result = await target.mergeSession({ session, events })
   *   if (result.outcome === 'conflict') console.error(result.conflicts.join('\n'))
   */
  mergeSession(input: SessionTransfer, options?: { dryRun?: boolean }): Promise<SessionMergeResult>
  /** The index of workspace files kept in S3 (size, sha-256, etag, epoch), in this database. */
  workspaceFiles(): WorkspaceFileIndex
  /** Applied, pending and unknown schema migrations. */
  schemaState(): Promise<SchemaState>
  /** Proves the database accepts a writer right now (takes and releases the write lock). */
  ping(): Promise<void>
  /** Waits for pending appends, then closes the database. */
  close(): Promise<void>
}

/**
 * Sessions, their event log, share links and upkeep: the only part of berth
 * that knows SQL. Each backend (SQLite embedded, PostgreSQL for several
 * instances) implements all four jobs and passes the same contract suite
 * (test/store/store-contract.ts); `openStore` (open-store.ts) chooses one.
 * Code that needs one job depends on that interface alone.
 *
 * @example
 *   const session = await store.createSession({ id, workspaceDir, deviceId })
 *   const stored = await store.append(session.id, { type: 'user_message', content: { text: 'hi' } })
 *   const sub = store.follow(session.id, 0, (event) => send(event))
 */
export interface Store extends SessionStore, EventLog, RunLeases, LiveSignals, ShareStore, StoreMaintenance {}

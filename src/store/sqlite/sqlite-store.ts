import type BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { BerthError } from '../../core/errors.js'
import { newEventId } from '../../core/ids.js'
import { pythonJsonDumps } from '../../core/python-json.js'
import { dbTimestamp } from '../../core/time.js'
import type { WorkspaceFileIndex } from '../../workspace/s3/file-index.js'
import { GroupCommitter } from '../group-commit.js'
import { LiveFeed } from '../live-feed.js'
import { migrateToLatest, readSchemaState, type SchemaState } from '../migrations.js'
import { sessionNotFound, toEvent } from '../rows.js'
import type { Database, EventRow } from '../schema.js'
import type { Store } from '../store.js'
import * as queries from '../store-queries.js'
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
} from '../types.js'
import { KyselyFileIndex, type WorkspaceFileTables } from '../workspace-file-index.js'
import { BackgroundCheckpointer, FALLBACK_AUTOCHECKPOINT_PAGES } from './background-checkpointer.js'
import type { UpgradeProgress } from './schema-upgrade.js'
import { backupSqlite, mapWriteError, openSqlite, type SqliteHandle, sqliteCode } from './sqlite-database.js'
import { createSessionMerger, snapshotSqliteFile } from './sqlite-transfer.js'
import { upgradeOnWorkerThread } from './upgrade-thread.js'

export interface SqliteStoreOptions {
  file: string
  readonly?: boolean
  busyTimeoutMs?: number
  /** Called when a subscriber throws; the store itself carries on. */
  onListenerError?: (error: unknown) => void
  /** Called when the background WAL checkpoint fails; SQLite's own checkpoint takes over. */
  onCheckpointError?: (error: Error) => void
  /**
   * Called with the backup path before a schema migration changes an existing
   * file; `reused` when it is an earlier backup of the very same content.
   */
  onMigrationBackup?: (file: string, backup: { pending: string[]; reused: boolean }) => void
  /** Where an upgrade of an existing file is (backup, then each schema step), several times a second. */
  onUpgradeProgress?: (progress: UpgradeProgress) => void
}

interface AppendBatch {
  sessionId: string
  events: NewEvent[]
  /** The run lease epoch the writer holds, checked inside the commit. */
  epoch?: number
}

/**
 * `updated_at` follows appends to within this interval: it serves pruning
 * (days) and display (seconds), and writing it with every batch costs a
 * session-row update per session per commit.
 */
const TOUCH_INTERVAL_MS = 1000

/**
 * The embedded store: one SQLite file (`events.db`) in WAL mode.
 * Reads go through Kysely; the append path uses prepared statements inside
 * one IMMEDIATE transaction per group commit.
 *
 * @example
 *   const store = await SqliteStore.open({ file: '/var/data/events.db' })
 */
export class SqliteStore implements Store {
  readonly dialect = 'sqlite' as const
  private readonly committer: GroupCommitter<AppendBatch, StoredEvent[]>
  private readonly feed: LiveFeed
  private readonly checkpointer: BackgroundCheckpointer | null
  private closed = false
  /** Last `seq` per session, known from this process's own commits. */
  private readonly seqCache = new Map<string, number>()
  /** When this process last wrote each session's `updated_at` (ms), to write it at most once per interval. */
  private readonly touchedAt = new Map<string, number>()
  private merger: ReturnType<typeof createSessionMerger> | undefined
  private readonly cancelListeners = new Set<(sessionId: string) => void>()

  private constructor(
    private readonly file: string,
    private readonly sqlite: SqliteHandle,
    private readonly db: Kysely<Database>,
    options: SqliteStoreOptions,
  ) {
    const reportError = options.onListenerError ?? (() => {})
    this.feed = new LiveFeed((sessionId, after, limit) => this.readEventsSync(sessionId, after, limit), reportError)
    this.checkpointer = sqlite.readonly ? null : new BackgroundCheckpointer(file, options.onCheckpointError)
    if (this.checkpointer) sqlite.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`)
    this.committer = new GroupCommitter(
      this.prepareAppendWriter(),
      (batches) => this.feed.publish(batches.flat()),
      reportError,
    )
  }

  /**
   * Open (and bring up to date) the database. An existing file with pending
   * schema steps is upgraded on a worker thread behind a backup
   * (`upgrade-thread.ts`), reporting `onUpgradeProgress`; this thread stays
   * free meanwhile.
   */
  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    // The main thread's connection first: a file that is not a readable database is refused here, untouched.
    const sqlite = openSqlite(options.file, { readonly: options.readonly, busyTimeoutMs: options.busyTimeoutMs })
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) })
    try {
      if (!options.readonly) {
        const state = await readSchemaState(db as unknown as Kysely<unknown>)
        // Existing data to upgrade (backup and rewrite, minutes for millions of events): on a worker thread.
        if (state.unknown.length === 0 && state.pending.length > 0 && state.hasData) {
          await upgradeOnWorkerThread(options.file, {
            busyTimeoutMs: options.busyTimeoutMs,
            onProgress: options.onUpgradeProgress,
            onBackup: (backup) => options.onMigrationBackup?.(backup.file, backup),
          })
        }
        // A new database (nothing to back up, milliseconds), or a newer one refused.
        await migrateToLatest(db as unknown as Kysely<unknown>, 'sqlite', options.file, async () => null)
      }
      return new SqliteStore(options.file, sqlite, db, options)
    } catch (error) {
      await db.destroy()
      throw error
    }
  }

  async createSession(input: NewSession): Promise<SessionRecord> {
    this.assertOpen()
    try {
      await queries.insertSession(this.db, input)
    } catch (error) {
      if (String((error as { code?: string }).code).startsWith('SQLITE_CONSTRAINT')) {
        throw new BerthError(
          'SESSION_EXISTS',
          `A session with id ${input.id} or workspace ${input.workspaceDir} exists.`,
          {
            cause: error,
          },
        )
      }
      throw mapWriteError(error, this.file)
    }
    return this.requireSession(input.id)
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    this.assertOpen()
    return queries.selectSession(this.db, id)
  }

  async listSessions(
    deviceId: string,
    options: { limit?: number; cursor?: string | null; label?: string | null } = {},
  ): Promise<Page<SessionListItem>> {
    this.assertOpen()
    return queries.selectSessionPage(this.db, deviceId, options)
  }

  async renameSession(id: string, name: string): Promise<SessionRecord> {
    return this.updateSession(id, { name })
  }

  async setSummary(id: string, summary: string): Promise<SessionRecord> {
    return this.updateSession(id, { summary })
  }

  async setStatus(id: string, status: SessionStatus, runOwner?: string): Promise<void> {
    const running = status === 'running'
    await this.updateSession(id, {
      status,
      run_owner: running ? (runOwner ?? null) : null,
      ...(running ? {} : { lease_expires_at: null }),
    })
  }

  async claimRun(
    sessionId: string,
    owner: string,
    ttlMs: number,
    options: { replacing?: string } = {},
  ): Promise<RunLease | null> {
    this.assertOpen()
    const now = Date.now()
    try {
      const row = this.sqlite
        .prepare(
          `UPDATE session SET status = 'running', run_owner = ?, run_epoch = run_epoch + 1, lease_expires_at = ?, updated_at = ?
           WHERE id = ? AND (status != 'running' OR lease_expires_at IS NULL OR lease_expires_at < ? OR run_owner = ?)
           RETURNING run_epoch`,
        )
        .get(owner, now + ttlMs, dbTimestamp(), sessionId, now, options.replacing ?? null) as
        | { run_epoch: number }
        | undefined
      if (row) return { sessionId, owner, epoch: Number(row.run_epoch), expiresAt: now + ttlMs }
    } catch (error) {
      throw mapWriteError(error, this.file)
    }
    if (!(await this.getSession(sessionId))) throw sessionNotFound(sessionId)
    return null
  }

  async renewRun(lease: RunLease, ttlMs: number): Promise<boolean> {
    this.assertOpen()
    try {
      const result = this.sqlite
        .prepare(`UPDATE session SET lease_expires_at = ? WHERE id = ? AND run_epoch = ? AND status = 'running'`)
        .run(Date.now() + ttlMs, lease.sessionId, lease.epoch)
      return result.changes === 1
    } catch (error) {
      throw mapWriteError(error, this.file)
    }
  }

  async endRun(lease: RunLease, status: Exclude<SessionStatus, 'running'>): Promise<boolean> {
    this.assertOpen()
    try {
      const result = this.sqlite
        .prepare(
          `UPDATE session SET status = ?, run_owner = NULL, lease_expires_at = NULL, updated_at = ?
           WHERE id = ? AND run_epoch = ?`,
        )
        .run(status, dbTimestamp(), lease.sessionId, lease.epoch)
      return result.changes === 1
    } catch (error) {
      throw mapWriteError(error, this.file)
    }
  }

  /** One process serves a SQLite root, so a cancel request stays in it. */
  async requestCancel(sessionId: string): Promise<void> {
    this.assertOpen()
    for (const listener of this.cancelListeners) listener(sessionId)
  }

  /** One process serves a SQLite root: its viewers get live events from its own runs directly. */
  broadcastLive(): void {}

  onLive(): () => void {
    return () => {}
  }

  onCancelRequest(listener: (sessionId: string) => void): () => void {
    this.cancelListeners.add(listener)
    return () => this.cancelListeners.delete(listener)
  }

  async lapsedRuns(nowMs: number = Date.now()): Promise<RunLease[]> {
    this.assertOpen()
    return queries.selectLapsedRuns(this.db, nowMs)
  }

  async listSessionsWithStatus(status: SessionStatus): Promise<SessionRecord[]> {
    this.assertOpen()
    return queries.selectSessionsWithStatus(this.db, status)
  }

  async deleteSession(id: string): Promise<{ eventsDeleted: number }> {
    this.assertOpen()
    await this.committer.drain()
    try {
      return this.sqlite.transaction(() => {
        const events = this.sqlite.prepare('DELETE FROM event WHERE session_id = ?').run(id)
        const session = this.sqlite.prepare('DELETE FROM session WHERE id = ?').run(id)
        this.seqCache.delete(id)
        this.touchedAt.delete(id)
        if (session.changes === 0) throw sessionNotFound(id)
        return { eventsDeleted: events.changes }
      })()
    } catch (error) {
      throw mapWriteError(error, this.file)
    }
  }

  async append(sessionId: string, event: NewEvent, options?: AppendOptions): Promise<StoredEvent> {
    const [stored] = await this.appendMany(sessionId, [event], options)
    return stored as StoredEvent
  }

  async appendMany(sessionId: string, events: NewEvent[], options: AppendOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen()
    if (events.length === 0) return []
    return this.committer.submit({
      sessionId,
      events,
      ...(options.epoch === undefined ? {} : { epoch: options.epoch }),
    })
  }

  async readEvents(sessionId: string, options: { after?: number; limit?: number } = {}): Promise<EventPage> {
    this.assertOpen()
    return queries.readEventPage(options, (after, limit) => this.readEventsSync(sessionId, after, limit))
  }

  follow(sessionId: string, after: number, listener: EventListener, onError?: (error: unknown) => void): Subscription {
    this.assertOpen()
    return this.feed.follow(sessionId, after, listener, onError)
  }

  async countEvents(sessionId: string): Promise<number> {
    this.assertOpen()
    return queries.countSessionEvents(this.db, sessionId)
  }

  async createShare(input: queries.NewShare): Promise<ShareRecord> {
    this.assertOpen()
    try {
      return await queries.insertShare(this.db, input)
    } catch (error) {
      if (sqliteCode(error) === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw sessionNotFound(input.sessionId)
      throw mapWriteError(error, this.file)
    }
  }

  async getShare(token: string): Promise<ShareRecord | null> {
    this.assertOpen()
    return queries.selectShare(this.db, token)
  }

  async listShares(sessionId: string): Promise<ShareRecord[]> {
    this.assertOpen()
    return queries.selectShares(this.db, sessionId)
  }

  async revokeShare(token: string): Promise<ShareRecord | null> {
    this.assertOpen()
    try {
      await queries.markShareRevoked(this.db, token)
    } catch (error) {
      throw mapWriteError(error, this.file)
    }
    return this.getShare(token)
  }

  async counts(): Promise<StoreCounts> {
    this.assertOpen()
    return queries.countRows(this.db)
  }

  async sessionRefs(): Promise<{ id: string; workspaceDir: string }[]> {
    this.assertOpen()
    return queries.selectSessionRefs(this.db)
  }

  async scanSessions(options: { after?: string | null; limit?: number } = {}): Promise<SessionRecord[]> {
    this.assertOpen()
    return queries.scanSessionRows(this.db, options)
  }

  async sessionsUpdatedBefore(before: string): Promise<SessionRecord[]> {
    this.assertOpen()
    return queries.selectSessionsUpdatedBefore(this.db, before)
  }

  async existingEventIds(ids: readonly string[]): Promise<Set<string>> {
    this.assertOpen()
    const found = new Set<string>()
    // Bounded IN lists: SQLite caps the number of bound parameters.
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('event')
        .select('id')
        .where('id', 'in', ids.slice(i, i + 500))
        .execute()
      for (const row of rows) found.add(row.id)
    }
    return found
  }

  async mergeSession(input: SessionTransfer, options: { dryRun?: boolean } = {}): Promise<SessionMergeResult> {
    this.assertOpen()
    await this.committer.drain()
    this.merger ??= createSessionMerger(this.sqlite, this.file)
    const result = this.merger(input, options.dryRun ?? false)
    // The merge wrote events behind the append path's back.
    this.seqCache.delete(input.session.id)
    return result
  }

  async setWorkspaceDir(id: string, workspaceDir: string): Promise<void> {
    this.assertOpen()
    try {
      await queries.updateWorkspaceDir(this.db, id, workspaceDir)
    } catch (error) {
      if (String(sqliteCode(error)).startsWith('SQLITE_CONSTRAINT')) {
        throw new BerthError('SESSION_EXISTS', `Another session already uses the folder ${workspaceDir}.`, {
          cause: error,
          details: { sessionId: id, workspaceDir },
        })
      }
      throw mapWriteError(error, this.file)
    }
  }

  /** A consistent, self-contained copy of a database file, taken without writing next to it (migrate, backup). */
  static async snapshotFile(
    source: string,
    destination: string,
    options?: { onStep?: (remainingPages: number) => void },
  ): Promise<void> {
    await snapshotSqliteFile(source, destination, options)
  }

  workspaceFiles(): WorkspaceFileIndex {
    this.fileIndex ??= new KyselyFileIndex(this.db as unknown as Kysely<WorkspaceFileTables>)
    return this.fileIndex
  }

  private fileIndex: WorkspaceFileIndex | undefined

  async schemaState(): Promise<SchemaState> {
    this.assertOpen()
    return readSchemaState(this.db as unknown as Kysely<unknown>)
  }

  async ping(): Promise<void> {
    this.assertOpen()
    if (this.sqlite.readonly) throw new BerthError('STORE_CLOSED', `${this.file} is open read-only.`)
    try {
      this.sqlite.exec('BEGIN IMMEDIATE; ROLLBACK')
    } catch (error) {
      throw mapWriteError(error, this.file)
    }
  }

  /** The connection's durability settings, as SQLite reports them (doctor, tests). */
  connectionSettings(): {
    journalMode: string
    synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA'
    foreignKeys: boolean
  } {
    this.assertOpen()
    const level = Number(this.sqlite.pragma('synchronous', { simple: true }))
    return {
      journalMode: String(this.sqlite.pragma('journal_mode', { simple: true })),
      synchronous: (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[level] ?? 'OFF',
      foreignKeys: Number(this.sqlite.pragma('foreign_keys', { simple: true })) === 1,
    }
  }

  /** `PRAGMA integrity_check`: `['ok']` when the file is sound. */
  async checkIntegrity(): Promise<string[]> {
    this.assertOpen()
    const rows = this.sqlite.pragma('integrity_check') as Record<string, unknown>[]
    return rows.map((row) => String(Object.values(row)[0]))
  }

  /** A consistent copy of the live database via SQLite's backup API. */
  async backupTo(destination: string): Promise<void> {
    this.assertOpen()
    await backupSqlite(this.sqlite, destination)
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.committer.drain()
    this.closed = true
    await this.checkpointer?.stop()
    try {
      if (!this.sqlite.readonly) this.sqlite.pragma('wal_checkpoint(TRUNCATE)')
    } finally {
      await this.db.destroy()
    }
  }

  private async updateSession(id: string, changes: queries.SessionChanges): Promise<SessionRecord> {
    this.assertOpen()
    try {
      await queries.updateSessionRow(this.db, id, changes)
    } catch (error) {
      throw mapWriteError(error, this.file)
    }
    return this.requireSession(id)
  }

  private async requireSession(id: string): Promise<SessionRecord> {
    const session = await this.getSession(id)
    if (!session) throw sessionNotFound(id)
    return session
  }

  private readEventsStatement: BetterSqlite3Statement | undefined

  /** A prepared statement read, shared by `readEvents` and the live feed's catch-up. */
  private readEventsSync(sessionId: string, after: number, limit: number): StoredEvent[] {
    this.readEventsStatement ??= this.sqlite.prepare(
      'SELECT id, session_id, seq, timestamp, event_type, event_payload FROM event WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    )
    return (this.readEventsStatement.all(sessionId, after, limit) as EventRow[]).map(toEvent)
  }

  /**
   * The group commit's writer: one IMMEDIATE transaction for every batch
   * submitted in the same tick.
   *
   * The last `seq` of each session is cached, so a batch costs one INSERT per
   * event. The cache cannot go stale silently: should another process (the
   * eval runner shares the file) append to the same session, the unique
   * (session_id, seq) index rejects the batch, the cache is dropped and the
   * batch is retried once with numbers read from the database.
   */
  private prepareAppendWriter(): (batches: AppendBatch[]) => StoredEvent[][] {
    if (this.sqlite.readonly) {
      return () => {
        throw new BerthError('STORE_CLOSED', `${this.file} is open read-only.`)
      }
    }
    const sessionExists = this.sqlite.prepare('SELECT 1 FROM session WHERE id = ?').pluck()
    const lastSeq = this.sqlite.prepare('SELECT MAX(seq) FROM event WHERE session_id = ?').pluck()
    const insert = this.sqlite.prepare(
      'INSERT INTO event (id, session_id, timestamp, event_type, event_payload, seq) VALUES (?, ?, ?, ?, ?, ?)',
    )
    const touch = this.sqlite.prepare('UPDATE session SET updated_at = ? WHERE id = ?')
    const leaseEpoch = this.sqlite.prepare('SELECT run_epoch FROM session WHERE id = ?').pluck()
    const seqCache = this.seqCache
    const touchedAt = this.touchedAt

    // Returns the stored events and the sessions whose `updated_at` it wrote (remembered only once committed).
    const write = this.sqlite.transaction((batches: AppendBatch[], nowMs: number) => {
      const next = new Map<string, number>()
      const now = dbTimestamp()
      const results = batches.map((batch) => {
        if (batch.epoch !== undefined) assertEpoch(batch, leaseEpoch.get(batch.sessionId))
        let seq = next.get(batch.sessionId) ?? seqCache.get(batch.sessionId)
        if (seq === undefined) {
          if (!sessionExists.get(batch.sessionId)) throw sessionNotFound(batch.sessionId)
          seq = Number(lastSeq.get(batch.sessionId) ?? 0)
        }
        const stored = batch.events.map((event) => {
          seq = (seq as number) + 1
          const row: StoredEvent = {
            id: event.id ?? newEventId(),
            sessionId: batch.sessionId,
            seq,
            timestamp: event.timestamp ?? now,
            type: event.type,
            payload: pythonJsonDumps({ type: event.type, content: event.content }),
          }
          insert.run(row.id, row.sessionId, row.timestamp, row.type, row.payload, row.seq)
          return row
        })
        next.set(batch.sessionId, seq)
        return stored
      })
      const touched: string[] = []
      for (const sessionId of next.keys()) {
        if (nowMs - (touchedAt.get(sessionId) ?? 0) < TOUCH_INTERVAL_MS) continue
        touch.run(now, sessionId)
        touched.push(sessionId)
      }
      return { results, touched }
    })
    const commit = (batches: AppendBatch[]): StoredEvent[][] => {
      const nowMs = Date.now()
      const { results, touched } = write.immediate(batches, nowMs)
      this.checkpointer?.nudge()
      for (const sessionId of touched) touchedAt.set(sessionId, nowMs)
      for (const stored of results) {
        const last = stored[stored.length - 1]
        if (last) seqCache.set(last.sessionId, last.seq)
      }
      return results
    }

    return (batches) => {
      if (this.closed) throw new BerthError('STORE_CLOSED', 'The store is closed.')
      try {
        return commit(batches)
      } catch (error) {
        // Another process appended to or deleted one of these sessions: forget
        // what we knew and try once more with numbers read from the database.
        const hadCache = seqCache.size > 0
        seqCache.clear()
        if (!hadCache || !sqliteCode(error)?.startsWith('SQLITE_CONSTRAINT')) throw mapWriteError(error, this.file)
        try {
          return commit(batches)
        } catch (retryError) {
          throw mapWriteError(retryError, this.file)
        }
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new BerthError('STORE_CLOSED', 'The store is closed.')
  }
}

type BetterSqlite3Statement = BetterSqlite3.Statement<unknown[], unknown>

/** Inside the commit: the writer's lease must still be the session's current one. */
function assertEpoch(batch: AppendBatch, current: unknown): void {
  if (current === undefined) throw sessionNotFound(batch.sessionId)
  if (Number(current) === batch.epoch) return
  throw new BerthError(
    'RUN_LEASE_LOST',
    `The run of session ${batch.sessionId} lost its lease (epoch ${batch.epoch}, now ${Number(current)}); its events were not stored.`,
    { details: { sessionId: batch.sessionId, epoch: batch.epoch, currentEpoch: Number(current) } },
  )
}

import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { BerthError } from '../../core/errors.js'
import type { TransientEvent } from '../../core/events.js'
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
import { APPEND_FUNCTION } from './append-function.js'
import { type PostgresSettings, postgresPoolConfig, redactDatabaseUrl } from './connection-config.js'
import { PostgresNotifyBus } from './notify-bus.js'
import { type AppendBatch, createPostgresAppender, type PostgresAppender } from './postgres-append.js'
import { FOREIGN_KEY_VIOLATION, mapPostgresError, pgCode, UNIQUE_VIOLATION } from './postgres-errors.js'
import { mergeSessionPostgres } from './postgres-merge.js'

export interface PostgresStoreOptions extends PostgresSettings {
  /** Inspect only (doctor): no schema step runs. */
  readonly?: boolean
  /** Called when a follower throws; the store itself carries on. */
  onListenerError?: (error: unknown) => void
  /** Called when the LISTEN connection of the notify bus fails (it reconnects by itself). */
  onBusError?: (error: unknown) => void
}

/** How the pool is doing, for doctor and /readyz. */
export interface PoolStats {
  /** Connections open now. */
  total: number
  idle: number
  /** Requests waiting for a connection. */
  waiting: number
  max: number
}

/**
 * The store on PostgreSQL (`DATABASE_URL=postgres://…`), for several berth
 * instances on one database. Answers are the same as SQLite's, byte for
 * byte (times and payloads are stored as text; every text column sorts
 * bytewise), which the contract suite proves (test/store/store-contract.ts).
 * Appends go through the same group commit as on SQLite: one transaction and
 * one multi-row INSERT per batch (postgres-append.ts).
 *
 * @example
 *   const store = await PostgresStore.open({ url: process.env.DATABASE_URL, poolSize: 10 })
 */
export class PostgresStore implements Store {
  readonly dialect = 'postgres' as const
  private readonly committer: GroupCommitter<AppendBatch, StoredEvent[]>
  private readonly feed: LiveFeed
  private readonly appender: PostgresAppender
  private closed = false

  private constructor(
    private readonly pool: pg.Pool,
    private readonly db: Kysely<Database>,
    /** The URL without its password, for messages. */
    readonly where: string,
    private readonly maxConnections: number,
    options: PostgresStoreOptions,
    feed: LiveFeed,
    /** Pointers and cancels to and from the other instances; null for a read-only store. */
    private readonly bus: PostgresNotifyBus | null,
  ) {
    const reportError = options.onListenerError ?? (() => {})
    this.feed = feed
    this.appender = createPostgresAppender(pool, where)
    this.committer = new GroupCommitter(
      (batches) => {
        if (this.closed) throw new BerthError('STORE_CLOSED', 'The store is closed.')
        return this.appender.write(batches)
      },
      (batches) => {
        const events = batches.flat()
        // Other instances got the pointers with the commit (append-function.ts).
        this.feed.publish(events)
      },
      reportError,
    )
  }

  /**
   * Connect, prove the server usable and bring the schema up to date (all
   * pending steps in one transaction, under an advisory lock, so instances
   * starting together migrate once). A server that is down or refuses the
   * credentials fails here with `DATABASE_UNAVAILABLE` naming DATABASE_URL.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const config = postgresPoolConfig(options)
    const where = redactDatabaseUrl(options.url)
    const pool = new pg.Pool({
      ...config,
      // Every connection gets the append function before it is handed out. A server that refuses it (a
      // read-only replica) still serves reads; appends then fail on the missing function.
      onConnect: async (client) => {
        await client.query(APPEND_FUNCTION).catch(() => undefined)
      },
    })
    // An idle pooled connection the server drops (restart, failover) must not crash the process.
    pool.on('error', () => {})
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    try {
      await sql`SELECT 1`.execute(db)
      // No file backup before a schema step: managed PostgreSQL keeps its own (point-in-time recovery).
      if (!options.readonly)
        await migrateToLatest(db as unknown as Kysely<unknown>, 'postgres', where, async () => null)
    } catch (error) {
      await db.destroy().catch(() => undefined)
      throw mapPostgresError(error, where)
    }
    // The feed exists before the bus, so no pointer arrives without a reader.
    const feed = new LiveFeed(
      (sessionId, after, limit) => readEventsAfter(db, where, sessionId, after, limit),
      options.onListenerError ?? (() => {}),
    )
    const cancels = new Set<(sessionId: string) => void>()
    const lives = new Set<(sessionId: string, events: readonly TransientEvent[]) => void>()
    let bus: PostgresNotifyBus | null = null
    if (!options.readonly) {
      try {
        bus = await PostgresNotifyBus.start(pool, config, {
          onPointer: (sessionId, lastSeq) => feed.notify(sessionId, lastSeq),
          onCancel: (sessionId) => {
            for (const listener of cancels) listener(sessionId)
          },
          onLive: (sessionId, events) => {
            for (const listener of lives) listener(sessionId, events)
          },
          onReconnect: () => feed.catchUpAll(),
          onError: options.onBusError ?? (() => {}),
        })
      } catch (error) {
        await db.destroy().catch(() => undefined)
        throw mapPostgresError(error, where)
      }
    }
    const store = new PostgresStore(pool, db, where, config.max ?? 10, options, feed, bus)
    store.cancelListeners = cancels
    store.liveListeners = lives
    return store
  }

  private cancelListeners = new Set<(sessionId: string) => void>()
  private liveListeners = new Set<(sessionId: string, events: readonly TransientEvent[]) => void>()

  broadcastLive(sessionId: string, events: readonly TransientEvent[]): void {
    this.bus?.broadcastLive(sessionId, events)
  }

  onLive(listener: (sessionId: string, events: readonly TransientEvent[]) => void): () => void {
    this.liveListeners.add(listener)
    return () => this.liveListeners.delete(listener)
  }

  async requestCancel(sessionId: string): Promise<void> {
    if (this.bus === null) throw new BerthError('STORE_CLOSED', `The store at ${this.where} is open read-only.`)
    await this.run(() => (this.bus as PostgresNotifyBus).requestCancel(sessionId))
  }

  onCancelRequest(listener: (sessionId: string) => void): () => void {
    this.cancelListeners.add(listener)
    return () => this.cancelListeners.delete(listener)
  }

  /** The notify bus: whether it listens, and how late the newest pointer arrived (ms), for /metrics. */
  busStats(): { listening: boolean; lagMs: number | null } {
    return { listening: this.bus?.listening ?? false, lagMs: this.bus?.lastLagMs ?? null }
  }

  poolStats(): PoolStats {
    return {
      total: this.pool.totalCount,
      idle: this.pool.idleCount,
      waiting: this.pool.waitingCount,
      max: this.maxConnections,
    }
  }

  async createSession(input: NewSession): Promise<SessionRecord> {
    await this.run(async () => {
      try {
        await queries.insertSession(this.db, input)
      } catch (error) {
        if (pgCode(error) === UNIQUE_VIOLATION) {
          throw new BerthError(
            'SESSION_EXISTS',
            `A session with id ${input.id} or workspace ${input.workspaceDir} exists.`,
            { cause: error },
          )
        }
        throw error
      }
    })
    return this.requireSession(input.id)
  }

  async getSession(id: string): Promise<SessionRecord | null> {
    return this.run(() => queries.selectSession(this.db, id))
  }

  async listSessions(
    deviceId: string,
    options: { limit?: number; cursor?: string | null; label?: string | null } = {},
  ): Promise<Page<SessionListItem>> {
    return this.run(() => queries.selectSessionPage(this.db, deviceId, options))
  }

  async renameSession(id: string, name: string): Promise<SessionRecord> {
    return this.updateSession(id, { name })
  }

  async setSummary(id: string, summary: string): Promise<SessionRecord> {
    return this.updateSession(id, { summary })
  }

  async setStatus(id: string, status: SessionStatus, runOwner?: string): Promise<void> {
    await this.updateSession(id, { status, run_owner: status === 'running' ? (runOwner ?? null) : null })
  }

  async listSessionsWithStatus(status: SessionStatus): Promise<SessionRecord[]> {
    return this.run(() => queries.selectSessionsWithStatus(this.db, status))
  }

  async deleteSession(id: string): Promise<{ eventsDeleted: number }> {
    this.assertOpen()
    await this.committer.drain()
    return this.run(() =>
      this.db.transaction().execute(async (trx) => {
        // Deleting events fences appends first (a trigger, append-fence.ts): none is half-way while they go,
        // and every instance reads this session's numbers afresh should it come back.
        const events = await trx.deleteFrom('event').where('session_id', '=', id).executeTakeFirst()
        const session = await trx.deleteFrom('session').where('id', '=', id).executeTakeFirst()
        if (session.numDeletedRows === 0n) throw sessionNotFound(id)
        this.appender.forget(id)
        return { eventsDeleted: Number(events.numDeletedRows) }
      }),
    )
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

  /**
   * One conditional UPDATE: of two instances claiming at once, the second
   * waits for the first's row lock, then finds the lease live and changes
   * nothing.
   */
  async claimRun(sessionId: string, owner: string, ttlMs: number): Promise<RunLease | null> {
    const now = Date.now()
    const row = await this.run(async () => {
      const result = await sql<{ run_epoch: string }>`
        UPDATE session SET status = 'running', run_owner = ${owner}, run_epoch = run_epoch + 1,
          lease_expires_at = ${now + ttlMs}, updated_at = ${dbTimestamp()}
        WHERE id = ${sessionId} AND (status <> 'running' OR lease_expires_at IS NULL OR lease_expires_at < ${now})
        RETURNING run_epoch`.execute(this.db)
      return result.rows[0]
    })
    if (row) return { sessionId, owner, epoch: Number(row.run_epoch), expiresAt: now + ttlMs }
    if (!(await this.getSession(sessionId))) throw sessionNotFound(sessionId)
    return null
  }

  async renewRun(lease: RunLease, ttlMs: number): Promise<boolean> {
    return this.run(async () => {
      const result = await this.db
        .updateTable('session')
        .set({ lease_expires_at: Date.now() + ttlMs })
        .where('id', '=', lease.sessionId)
        .where('run_epoch', '=', lease.epoch)
        .where('status', '=', 'running')
        .executeTakeFirst()
      return result.numUpdatedRows === 1n
    })
  }

  async endRun(lease: RunLease, status: Exclude<SessionStatus, 'running'>): Promise<boolean> {
    return this.run(async () => {
      const result = await this.db
        .updateTable('session')
        .set({ status, run_owner: null, lease_expires_at: null, updated_at: dbTimestamp() })
        .where('id', '=', lease.sessionId)
        .where('run_epoch', '=', lease.epoch)
        .executeTakeFirst()
      return result.numUpdatedRows === 1n
    })
  }

  async lapsedRuns(nowMs: number = Date.now()): Promise<RunLease[]> {
    return this.run(() => queries.selectLapsedRuns(this.db, nowMs))
  }

  async readEvents(sessionId: string, options: { after?: number; limit?: number } = {}): Promise<EventPage> {
    this.assertOpen()
    return queries.readEventPage(options, (after, limit) => this.readEventsAfter(sessionId, after, limit))
  }

  follow(sessionId: string, after: number, listener: EventListener, onError?: (error: unknown) => void): Subscription {
    this.assertOpen()
    return this.feed.follow(sessionId, after, listener, onError)
  }

  async countEvents(sessionId: string): Promise<number> {
    return this.run(() => queries.countSessionEvents(this.db, sessionId))
  }

  async existingEventIds(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>()
    if (ids.length === 0) return found
    await this.run(async () => {
      // One array parameter, whatever the number of ids (no bound-parameter cap as on SQLite).
      const rows = await sql<{ id: string }>`SELECT id FROM event WHERE id = ANY(${[...ids]}::text[])`.execute(this.db)
      for (const row of rows.rows) found.add(row.id)
    })
    return found
  }

  async createShare(input: queries.NewShare): Promise<ShareRecord> {
    return this.run(async () => {
      try {
        return await queries.insertShare(this.db, input)
      } catch (error) {
        if (pgCode(error) === FOREIGN_KEY_VIOLATION) throw sessionNotFound(input.sessionId)
        throw error
      }
    })
  }

  async getShare(token: string): Promise<ShareRecord | null> {
    return this.run(() => queries.selectShare(this.db, token))
  }

  async listShares(sessionId: string): Promise<ShareRecord[]> {
    return this.run(() => queries.selectShares(this.db, sessionId))
  }

  async revokeShare(token: string): Promise<ShareRecord | null> {
    await this.run(() => queries.markShareRevoked(this.db, token))
    return this.getShare(token)
  }

  async counts(): Promise<StoreCounts> {
    return this.run(() => queries.countRows(this.db))
  }

  /**
   * PostgreSQL checks its pages itself; what can be left broken is an index
   * (a failed concurrent build leaves it invalid). One line per invalid index
   * of berth's tables, else `['ok']`.
   */
  async checkIntegrity(): Promise<string[]> {
    return this.run(async () => {
      const rows = await sql<{ index: string; table: string }>`
        SELECT i.relname AS index, t.relname AS table FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname IN ('session', 'event', 'share_link') AND NOT (x.indisvalid AND x.indisready)`.execute(this.db)
      return rows.rows.length === 0
        ? ['ok']
        : rows.rows.map((row) => `index ${row.index} on ${row.table} is invalid; rebuild it with REINDEX`)
    })
  }

  async sessionRefs(): Promise<{ id: string; workspaceDir: string }[]> {
    return this.run(() => queries.selectSessionRefs(this.db))
  }

  async scanSessions(options: { after?: string | null; limit?: number } = {}): Promise<SessionRecord[]> {
    return this.run(() => queries.scanSessionRows(this.db, options))
  }

  async sessionsUpdatedBefore(before: string): Promise<SessionRecord[]> {
    return this.run(() => queries.selectSessionsUpdatedBefore(this.db, before))
  }

  async mergeSession(input: SessionTransfer, options: { dryRun?: boolean } = {}): Promise<SessionMergeResult> {
    this.assertOpen()
    await this.committer.drain()
    const result = await mergeSessionPostgres(this.pool, this.where, input, options.dryRun ?? false)
    if (!options.dryRun && result.eventsInserted > 0) {
      // Followers on other instances read what the merge added.
      const lastSeq = input.events.reduce((highest, event) => Math.max(highest, event.seq), 0)
      await this.bus?.announce(new Map([[input.session.id, lastSeq]])).catch(() => undefined)
    }
    return result
  }

  async setWorkspaceDir(id: string, workspaceDir: string): Promise<void> {
    await this.run(async () => {
      try {
        await queries.updateWorkspaceDir(this.db, id, workspaceDir)
      } catch (error) {
        if (pgCode(error) === UNIQUE_VIOLATION) {
          throw new BerthError('SESSION_EXISTS', `Another session already uses the folder ${workspaceDir}.`, {
            cause: error,
            details: { sessionId: id, workspaceDir },
          })
        }
        throw error
      }
    })
  }

  workspaceFiles(): WorkspaceFileIndex {
    this.fileIndex ??= new KyselyFileIndex(this.db as unknown as Kysely<WorkspaceFileTables>)
    return this.fileIndex
  }

  private fileIndex: WorkspaceFileIndex | undefined

  async schemaState(): Promise<SchemaState> {
    return this.run(() => readSchemaState(this.db as unknown as Kysely<unknown>))
  }

  /** A write transaction on the server right now: refused by a read-only replica or a standby. */
  async ping(): Promise<void> {
    await this.run(async () => {
      await this.db.transaction().execute(async (trx) => {
        const row = await sql<{
          read_only: string
        }>`SELECT current_setting('transaction_read_only') AS read_only`.execute(trx)
        if (row.rows[0]?.read_only === 'on') {
          throw new BerthError(
            'DATABASE_UNAVAILABLE',
            `PostgreSQL at ${this.where} (DATABASE_URL) accepts no writes: it is a read-only replica or a standby.`,
            { details: { setting: 'DATABASE_URL', database: this.where } },
          )
        }
      })
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.committer.drain()
    this.closed = true
    await this.bus?.close()
    await this.db.destroy()
  }

  private async readEventsAfter(sessionId: string, after: number, limit: number): Promise<StoredEvent[]> {
    return readEventsAfter(this.db, this.where, sessionId, after, limit)
  }

  private async updateSession(id: string, changes: queries.SessionChanges): Promise<SessionRecord> {
    await this.run(() => queries.updateSessionRow(this.db, id, changes))
    return this.requireSession(id)
  }

  private async requireSession(id: string): Promise<SessionRecord> {
    const session = await this.getSession(id)
    if (!session) throw sessionNotFound(id)
    return session
  }

  /** Every query: refused once closed; server failures become DATABASE_UNAVAILABLE. */
  private async run<T>(query: () => Promise<T>): Promise<T> {
    this.assertOpen()
    try {
      return await query()
    } catch (error) {
      throw mapPostgresError(error, this.where)
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new BerthError('STORE_CLOSED', 'The store is closed.')
  }
}

/** A session's stored events after a cursor: shared by reads and the live feed. */
async function readEventsAfter(
  db: Kysely<Database>,
  where: string,
  sessionId: string,
  after: number,
  limit: number,
): Promise<StoredEvent[]> {
  try {
    const rows = await sql<EventRow>`
      SELECT id, session_id, seq, timestamp, event_type, event_payload FROM event
      WHERE session_id = ${sessionId} AND seq > ${after} ORDER BY seq LIMIT ${limit}`.execute(db)
    return rows.rows.map(toEvent)
  } catch (error) {
    throw mapPostgresError(error, where)
  }
}

import pg from 'pg'
import type { TransientEvent } from '../../core/events.js'

/** Channel of commit pointers: `<session> <last seq> <sent at, ms>`, several in one notification joined by `,`. */
const EVENTS_CHANNEL = 'berth_events'
/** Channel of cancel requests: `<session>`. */
const CANCEL_CHANNEL = 'berth_cancel'
/**
 * Channel of live-only events of a run: `{"s": session, "n": counter, "e": [events]}`. The counter keeps
 * payloads distinct: PostgreSQL delivers identical payloads sent in one transaction only once.
 */
const LIVE_CHANNEL = 'berth_live'
/** Pointers per notification (as the append function sends them): at most 62 bytes each, well under the limit. */
const POINTERS_PER_NOTIFICATION = 100
/** PostgreSQL refuses a notification payload of 8,000 bytes or more; leave room. */
const MAX_PAYLOAD_BYTES = 7_000
/** A longer text is cut into pieces of this many characters (4 bytes each at most, JSON escapes aside). */
const TEXT_PIECE = 1_000
const RECONNECT_MIN_MS = 250
const RECONNECT_MAX_MS = 5_000

export interface NotifyBusHandlers {
  /** Another instance (or this one) committed a session's events up to `lastSeq`. */
  onPointer(sessionId: string, lastSeq: number): void
  onCancel(sessionId: string): void
  /** Live-only events (streamed tokens, shell output) of a run on another instance. */
  onLive(sessionId: string, events: TransientEvent[]): void
  /** Listening again after the connection was lost: pointers sent meanwhile are gone. */
  onReconnect(): void
  onError(error: unknown): void
}

/**
 * Live events across berth instances on one PostgreSQL: each commit carries a
 * pointer per session (`pg_notify` inside the append function,
 * append-function.ts: the session and its last `seq`, never the events; a
 * merge sends its own with `announce`); every instance LISTENs on a dedicated connection
 * (not a pooled one: a pooled connection is handed to other queries) and its
 * live feed reads the rows itself (LiveFeed.notify). Cancel requests travel the
 * same way to the instance that owns the run.
 *
 * A pointer lost with a dropped connection is made good on reconnect
 * (`onReconnect`: the feed re-reads every followed session); one lost because
 * its sender died after the commit is made good by the next pointer of that
 * session (the takeover's interrupt), since followers read everything past
 * what they have.
 *
 * @example
 *   const bus = await PostgresNotifyBus.start(pool, clientConfig, { onPointer: (s, q) => feed.notify(s, q), ... })
 *   await bus.announce(new Map([[sessionId, lastSeq]]))
 */
export class PostgresNotifyBus {
  private client: pg.Client | null = null
  private closed = false
  private retryMs = RECONNECT_MIN_MS
  private reconnectTimer: NodeJS.Timeout | null = null
  private liveCounter = 0
  /** How late the newest pointer arrived (ms between its sending and its arrival), for /metrics. */
  lastLagMs: number | null = null
  /** Whether the LISTEN connection is up right now. */
  get listening(): boolean {
    return this.client !== null
  }

  private constructor(
    private readonly pool: pg.Pool,
    private readonly clientConfig: pg.ClientConfig,
    private readonly handlers: NotifyBusHandlers,
  ) {}

  /** Connect and LISTEN; fails like the store's own connection when PostgreSQL cannot be reached. */
  static async start(
    pool: pg.Pool,
    clientConfig: pg.ClientConfig,
    handlers: NotifyBusHandlers,
  ): Promise<PostgresNotifyBus> {
    const bus = new PostgresNotifyBus(pool, clientConfig, handlers)
    await bus.connect()
    return bus
  }

  /**
   * Tell every instance how far sessions now reach, for events written
   * outside the append path (a merge); appends send their pointers with the
   * commit itself.
   */
  async announce(last: ReadonlyMap<string, number>): Promise<void> {
    if (this.closed || last.size === 0) return
    const sentAt = Date.now()
    const pointers = [...last].map(([sessionId, seq]) => `${sessionId} ${seq} ${sentAt}`)
    const payloads: string[] = []
    for (let i = 0; i < pointers.length; i += POINTERS_PER_NOTIFICATION) {
      payloads.push(pointers.slice(i, i + POINTERS_PER_NOTIFICATION).join(','))
    }
    await this.pool.query(`SELECT pg_notify('${EVENTS_CHANNEL}', p) FROM unnest($1::text[]) AS p`, [payloads])
  }

  /** Streamed deltas of a run here, for viewers on the other instances; each notification under the size limit. */
  broadcastLive(sessionId: string, events: readonly TransientEvent[]): void {
    if (this.closed || events.length === 0) return
    const payloads: string[] = []
    let batch: TransientEvent[] = []
    let size = 0
    for (const event of events.flatMap(pieces)) {
      const bytes = Buffer.byteLength(JSON.stringify(event))
      if (batch.length > 0 && size + bytes > MAX_PAYLOAD_BYTES) {
        payloads.push(JSON.stringify({ s: sessionId, n: this.liveCounter++, e: batch }))
        batch = []
        size = 0
      }
      batch.push(event)
      size += bytes
    }
    if (batch.length > 0) payloads.push(JSON.stringify({ s: sessionId, n: this.liveCounter++, e: batch }))
    // One statement: the notifications go out in order.
    this.pool
      .query(`SELECT pg_notify('${LIVE_CHANNEL}', p) FROM unnest($1::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n`, [
        payloads,
      ])
      .catch((error: unknown) => this.handlers.onError(error))
  }

  /** Ask whichever instance runs the session to cancel it. */
  async requestCancel(sessionId: string): Promise<void> {
    await this.pool.query(`SELECT pg_notify('${CANCEL_CHANNEL}', $1)`, [sessionId])
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    const client = this.client
    this.client = null
    await client?.end().catch(() => undefined)
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.clientConfig)
    client.on('notification', (message) => this.receive(message))
    client.on('error', (error) => this.lost(client, error))
    client.on('end', () => this.lost(client, null))
    try {
      await client.connect()
      await client.query(`LISTEN ${EVENTS_CHANNEL}; LISTEN ${CANCEL_CHANNEL}; LISTEN ${LIVE_CHANNEL}`)
    } catch (error) {
      await client.end().catch(() => undefined)
      throw error
    }
    if (this.closed) {
      await client.end().catch(() => undefined)
      return
    }
    this.client = client
    this.retryMs = RECONNECT_MIN_MS
  }

  private receive(message: pg.Notification): void {
    const payload = message.payload ?? ''
    if (message.channel === CANCEL_CHANNEL) {
      if (payload) this.handlers.onCancel(payload)
      return
    }
    if (message.channel === LIVE_CHANNEL) {
      const live = parseLive(payload)
      if (live) this.handlers.onLive(live.s, live.e)
      return
    }
    for (const pointer of payload.split(',')) {
      const [sessionId, seq, sentAt] = pointer.split(' ')
      const lastSeq = Number(seq)
      if (!sessionId || !Number.isSafeInteger(lastSeq)) continue
      if (sentAt !== undefined && Number.isFinite(Number(sentAt)))
        this.lastLagMs = Math.max(0, Date.now() - Number(sentAt))
      this.handlers.onPointer(sessionId, lastSeq)
    }
  }

  /** The LISTEN connection dropped (a restart, a failover): reconnect with backoff, then have everything re-read. */
  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client || this.closed) return
    this.client = null
    if (error) this.handlers.onError(error)
    client.end().catch(() => undefined)
    this.scheduleReconnect()
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
      this.connect().then(
        () => {
          if (!this.closed) this.handlers.onReconnect()
        },
        (error: unknown) => {
          this.handlers.onError(error)
          this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS)
          this.scheduleReconnect()
        },
      )
    }, this.retryMs)
    this.reconnectTimer.unref()
  }
}

/** An event whose text would not fit one notification, as several (a long shell output, say). */
function pieces(event: TransientEvent): TransientEvent[] {
  const content = event.content as { text?: unknown }
  if (typeof content.text !== 'string' || Buffer.byteLength(JSON.stringify(event)) <= MAX_PAYLOAD_BYTES) return [event]
  const out: TransientEvent[] = []
  const chars = [...content.text]
  for (let i = 0; i < chars.length; i += TEXT_PIECE) {
    out.push({
      ...event,
      content: { ...event.content, text: chars.slice(i, i + TEXT_PIECE).join('') },
    } as TransientEvent)
  }
  return out
}

function parseLive(payload: string): { s: string; e: TransientEvent[] } | null {
  try {
    const value = JSON.parse(payload) as { s?: unknown; e?: unknown }
    if (typeof value.s !== 'string' || !Array.isArray(value.e)) return null
    return { s: value.s, e: value.e as TransientEvent[] }
  } catch {
    return null
  }
}

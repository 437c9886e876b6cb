import type { ColumnType, Selectable } from 'kysely'

/**
 * The tables as Kysely sees them. `session` and `event` keep the reference
 * system's names and columns; berth's additions are marked.
 */
export interface Database {
  session: SessionTable
  event: EventTable
  share_link: ShareLinkTable
}

export interface ShareLinkTable {
  token: string
  session_id: string
  created_at: string
  expires_at: string | null
  revoked_at: string | null
  created_by: string | null
}

export interface SessionTable {
  id: string
  workspace_dir: string
  created_at: string | null
  device_id: string | null
  summary: string | null
  /** berth: a user-chosen title. */
  name: ColumnType<string | null, string | null | undefined, string | null>
  /** berth: idle | running | interrupted. */
  status: ColumnType<string, string | undefined, string>
  /** berth: a grouping label, e.g. `gaia:<run name>`. */
  label: ColumnType<string | null, string | null | undefined, string | null>
  /** berth: `host/pid` of the process running the session while status is running. */
  run_owner: ColumnType<string | null, string | null | undefined, string | null>
  /** berth: the run lease's epoch, bumped by every claim (RunLeases in store.ts). */
  run_epoch: ColumnType<number, number | undefined, number>
  /** berth: when the run lease lapses unless renewed, ms since 1970; null when no run holds one. */
  lease_expires_at: ColumnType<number | null, number | null | undefined, number | null>
  /** berth: time of the last event or change. */
  updated_at: ColumnType<string | null, string | null | undefined, string | null>
}

export interface EventTable {
  id: string
  session_id: string
  timestamp: string | null
  event_type: string
  event_payload: string
  /** berth: per-session ordering cursor. */
  seq: number
}

/** Rows as SELECT * returns them, for code that reads with prepared statements. */
export type SessionRow = Selectable<SessionTable>
export type EventRow = Selectable<EventTable>
export type ShareLinkRow = Selectable<ShareLinkTable>

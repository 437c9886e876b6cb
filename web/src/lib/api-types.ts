import type { EventContents, StoredEventType, TransientContents } from '../../../src/core/events.js'

/** Shapes of the berth HTTP API the UI reads (see src/server/presenters.ts). Times are ISO UTC with an offset. */
export interface SessionSummary {
  id: string
  workspace_dir: string
  created_at: string
  device_id: string | null
  summary: string | null
  first_message?: string | null
  name: string | null
  status: 'idle' | 'running' | 'interrupted'
  updated_at: string
  label: string | null
  title: string | null
}

export interface SessionPage {
  sessions: SessionSummary[]
  next_cursor: string | null
}

export interface ApiEvent {
  id: string
  session_id: string
  seq: number
  timestamp: string
  event_type: string
  event_payload: { type: string; content: unknown }
}

export interface EventPage {
  events: ApiEvent[]
  total_count?: number
  returned_count: number
  next_after: number | null
}

export interface ShareInfo {
  token: string
  url: string
  session_id: string
  created_at: string
  expires_at: string | null
  revoked_at: string | null
  active: boolean
}

export interface SharedSession {
  session: {
    id: string
    title: string | null
    created_at: string
    status: string
    running: boolean
    event_count: number
  }
  share: { expires_at: string | null }
}

export interface FileNode {
  name: string
  type: 'file' | 'folder'
  path: string
  language: string
  size?: number
  children?: FileNode[]
  partial?: boolean
}

export interface FileContent {
  content: string
  encoding: 'utf-8' | 'base64'
}

export interface ModelCatalog {
  default: { provider: string; model: string }
  providers: { id: string; label: string; configured: boolean; keyVariable: string }[]
  models: { id: string; provider: string; model: string; label: string; configured: boolean; isDefault: boolean }[]
}

export interface ReadyReport {
  ready: boolean
  store: { writable: boolean; error?: string }
  disk: { freeBytes: number; totalBytes: number }
  storage: {
    mode: 'persistent' | 'local' | 'ephemeral' | 'external'
    persistent: boolean
    source: string
    warnings: string[]
  }
}

/**
 * One frame as the UI handles it: a stored event (with `seq`, from the
 * socket or a history page) or a live-only frame (deltas, `processing`, …).
 */
export interface Frame {
  type: string
  content?: unknown
  seq?: number
  id?: string
  timestamp?: string
}

export type StoredContent<T extends StoredEventType> = EventContents[T]
export type DeltaContent<T extends keyof TransientContents> = TransientContents[T]

/** A history page's event as the frame the socket would have sent. */
export function frameOfApiEvent(event: ApiEvent): Frame {
  return {
    type: event.event_payload.type ?? event.event_type,
    content: event.event_payload.content,
    seq: event.seq,
    id: event.id,
    timestamp: event.timestamp,
  }
}

/** GAIA runs (src/eval/eval-summary.ts, src/eval/eval-service.ts, src/eval/eval-views.ts). */
export interface EvalScoreLine {
  tasks: number
  finished: number
  correct: number
  scored: number
  accuracy: number | null
  errors: number
  interrupted: number
}

export interface EvalRunSummary extends EvalScoreLine {
  run_name: string
  split: string | null
  model: string | null
  levels: Record<string, EvalScoreLine>
  tokens: { input: number; output: number }
  attempts: number
  skipped_lines: string[]
}

export interface EvalRunInfo {
  run_name: string
  status: 'running' | 'finished' | 'stopped'
  runner: 'server' | 'other' | null
  planned: number | null
  created_at: string | null
  updated_at: string | null
  error: { code: string; message: string } | null
  summary: EvalRunSummary
}

export interface EvalTaskRow {
  task_id: string
  level: string
  question: string
  attempt: number
  status: 'running' | 'completed' | 'error' | 'interrupted'
  prediction: string | null
  true_answer: string | null
  correct: boolean | null
  session_id: string
  started_at: string
  ended_at: string | null
  duration_ms: number | null
  error: { code: string; message: string } | null
}

export interface EvalRunDetail {
  run: EvalRunInfo
  tasks: EvalTaskRow[]
}

export interface EvalRunList {
  runs: EvalRunInfo[]
  dataset: { dir: string; splits: Record<'validation' | 'test', boolean>; downloadable: boolean }
}

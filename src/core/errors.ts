/**
 * Every failure berth reports on purpose is a `BerthError`: a stable `code`
 * that clients and scripts switch on, an HTTP-ish `status`, a plain-words
 * message and optional structured `details`.
 *
 * @example
 *   throw new BerthError('SESSION_NOT_FOUND', `No session ${id}`, { status: 404 })
 */
export class BerthError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly details: Record<string, unknown> | undefined

  constructor(
    code: ErrorCode,
    message: string,
    options: { status?: number; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'BerthError'
    this.code = code
    this.status = options.status ?? 500
    this.details = options.details
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }
}

/** The catalogue of codes. Each domain adds its own here so they stay unique. */
export type ErrorCode =
  // configuration
  | 'CONFIG_INVALID'
  // storage (data root)
  | 'ROOT_NOT_WRITABLE'
  | 'ROOT_NOT_A_DIRECTORY'
  | 'ROOT_CANARY_FAILED'
  | 'ROOT_LOCKED'
  | 'ROOT_LOCK_FAILED'
  // store
  | 'DATABASE_UNREADABLE'
  | 'DATABASE_TOO_NEW'
  | 'DATABASE_MIGRATION_FAILED'
  | 'DISK_FULL'
  | 'STORE_CLOSED'
  | 'SESSION_NOT_FOUND'
  | 'SESSION_EXISTS'
  | 'INVALID_CURSOR'
  // server and access
  | 'ACCESS_DENIED'
  | 'AUTH_REQUIRED'
  | 'INVALID_REQUEST'
  | 'SHARE_NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  // workspace
  | 'PATH_INVALID'
  | 'PATH_OUTSIDE_WORKSPACE'
  | 'WORKSPACE_NOT_FOUND'
  | 'WORKSPACE_QUOTA_EXCEEDED'
  | 'FILE_NOT_FOUND'
  | 'FILE_TOO_LARGE'
  // migrate, backup/restore, session bundles, prune
  | 'MIGRATE_SOURCE_INVALID'
  | 'MIGRATE_REFUSED'
  | 'NOT_ENOUGH_SPACE'
  | 'SOURCE_CHANGED'
  | 'COPY_VERIFY_FAILED'
  | 'ARCHIVE_INVALID'
  | 'TARGET_NOT_EMPTY'
  | 'DURATION_INVALID'
  // agent runs
  | 'QUERY_IN_PROGRESS'
  | 'NO_ACTIVE_QUERY'
  | 'BASH_TOOL_UNAVAILABLE'
  | 'SANDBOX_UNAVAILABLE'
  | 'MISSING_COMMAND'
  | 'RUNS_SHUT_DOWN'
  // tools
  | 'TOOL_INPUT_INVALID'
  | 'TOOL_FAILED'
  | 'TOOL_ABORTED'
  | 'WEB_REQUEST_FAILED'
  // llm
  | 'LLM_NOT_CONFIGURED'
  | 'LLM_REQUEST_FAILED'
  | 'LLM_ABORTED'
  | 'LLM_TIMEOUT'
  // eval (GAIA runner)
  | 'EVAL_DATASET_NOT_FOUND'
  | 'EVAL_DATASET_INVALID'
  | 'EVAL_RUN_NAME_INVALID'
  | 'EVAL_RUN_NOT_FOUND'
  | 'EVAL_RUN_LOCKED'
  | 'EVAL_RUN_MISMATCH'
  | 'EVAL_TASK_INTERRUPTED'
  | 'EVAL_HUB_FAILED'

export function isBerthError(value: unknown, code?: ErrorCode): value is BerthError {
  return value instanceof BerthError && (code === undefined || value.code === code)
}

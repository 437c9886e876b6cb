/**
 * Every failure berth reports on purpose is a `BerthError`: a stable `code`
 * that clients and scripts switch on, a plain-words message and optional
 * structured `details`. The HTTP status is not chosen at the throw site: each
 * code is bound once, in `ERROR_CATALOGUE`, to its status and what it means.
 *
 * @example
 *   throw new BerthError('SESSION_NOT_FOUND', `No session ${id}`) // answered as 404
 */
export class BerthError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'BerthError'
    this.code = code
    this.status = ERROR_CATALOGUE[code].status
    this.details = options.details
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }
}

export interface ErrorSpec {
  /** The HTTP status a request that fails this way is answered with. */
  status: number
  /** What the code means, in a few words (docs, logs, and the answer when there is no better message). */
  title: string
}

/**
 * The catalogue of codes, grouped by domain. A code is added here once; the
 * status follows it to every route, socket and CLI that reports it.
 */
export const ERROR_CATALOGUE = {
  // configuration
  CONFIG_INVALID: { status: 500, title: 'A setting is invalid' },
  // storage (data root)
  ROOT_NOT_WRITABLE: { status: 500, title: 'The data root cannot be written' },
  ROOT_NOT_A_DIRECTORY: { status: 500, title: 'The data root is not a folder' },
  ROOT_CANARY_FAILED: { status: 500, title: 'The data root lost a test write' },
  ROOT_LOCKED: { status: 409, title: 'Another server holds the data root' },
  ROOT_LOCK_FAILED: { status: 500, title: 'The data root could not be locked' },
  // store
  DATABASE_UNREADABLE: { status: 500, title: 'The database cannot be opened' },
  DATABASE_TOO_NEW: { status: 500, title: 'The database was written by a newer berth' },
  DATABASE_MIGRATION_FAILED: { status: 500, title: 'Updating the database schema failed' },
  DATABASE_UPGRADING: { status: 503, title: 'The database is being upgraded; try again shortly' },
  DATABASE_UNAVAILABLE: { status: 503, title: 'PostgreSQL (DATABASE_URL) cannot be reached or refused berth' },
  DISK_FULL: { status: 507, title: 'The disk is full' },
  STORE_CLOSED: { status: 503, title: 'The store is closed' },
  RUN_LEASE_LOST: { status: 409, title: 'Another owner took over this run' },
  SESSION_NOT_FOUND: { status: 404, title: 'No such session' },
  SESSION_EXISTS: { status: 409, title: 'The session exists already' },
  INVALID_CURSOR: { status: 400, title: 'The paging cursor is invalid' },
  // server and access
  ACCESS_DENIED: { status: 403, title: 'Not allowed' },
  AUTH_REQUIRED: { status: 401, title: 'The server token is required' },
  ADMIN_NOT_CONFIGURED: { status: 503, title: 'Admin routes need BERTH_AUTH_TOKEN' },
  INVALID_REQUEST: { status: 400, title: 'The request is invalid' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body has an unsupported content type' },
  NOT_FOUND: { status: 404, title: 'No such route' },
  SHARE_NOT_FOUND: { status: 404, title: 'No such share link' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request is too large' },
  INTERNAL_ERROR: { status: 500, title: 'Internal server error' },
  SERVER_STARTING: { status: 503, title: 'The server is starting; try again shortly' },
  // the WebSocket protocol (the reference's codes)
  INVALID_JSON: { status: 400, title: 'The message is not valid JSON' },
  UNKNOWN_MESSAGE_TYPE: { status: 400, title: 'Unknown message type' },
  INVALID_MESSAGE: { status: 400, title: 'The message has invalid fields' },
  // workspace
  PATH_INVALID: { status: 400, title: 'The path is invalid' },
  PATH_IS_A_FOLDER: { status: 409, title: 'A folder is in the way' },
  PATH_OUTSIDE_WORKSPACE: { status: 403, title: 'The path leads out of the workspace' },
  WORKSPACE_NOT_FOUND: { status: 404, title: 'No such workspace' },
  WORKSPACE_QUOTA_EXCEEDED: { status: 413, title: 'The workspace quota is used up' },
  FILE_NOT_FOUND: { status: 404, title: 'No such file' },
  FILE_TOO_LARGE: { status: 413, title: 'The file is too large' },
  FILE_TYPE_MISMATCH: { status: 415, title: 'The file contents do not match its type' },
  DOCUMENT_UNREADABLE: { status: 422, title: 'The document cannot be read' },
  STORAGE_UNAVAILABLE: { status: 503, title: 'The workspace storage (S3 bucket) cannot be used' },
  WRITE_FENCED: { status: 409, title: 'A newer owner of the run has written this file' },
  // migrate, backup/restore, session bundles, prune
  MIGRATE_SOURCE_INVALID: { status: 400, title: 'The migration source is not a data folder' },
  MIGRATE_REFUSED: { status: 409, title: 'The migration was refused' },
  NOT_ENOUGH_SPACE: { status: 507, title: 'Not enough free space' },
  SOURCE_CHANGED: { status: 409, title: 'The source changed while it was copied' },
  COPY_VERIFY_FAILED: { status: 500, title: 'A copy did not match its source' },
  ARCHIVE_INVALID: { status: 400, title: 'The archive is invalid' },
  BACKUP_INCOMPLETE: { status: 500, title: 'Not everything could be put in the backup' },
  TARGET_NOT_EMPTY: { status: 409, title: 'The target holds data' },
  DURATION_INVALID: { status: 400, title: 'The duration is invalid' },
  // agent runs
  QUERY_IN_PROGRESS: { status: 409, title: 'A query is running in this session' },
  NO_ACTIVE_QUERY: { status: 409, title: 'No query is running' },
  BASH_TOOL_UNAVAILABLE: { status: 503, title: 'No shell is available here' },
  SANDBOX_UNAVAILABLE: { status: 503, title: 'The shell sandbox is unavailable' },
  MISSING_COMMAND: { status: 400, title: 'No command was given' },
  RUNS_SHUT_DOWN: { status: 503, title: 'The server is shutting down' },
  EMPTY_RESPONSE: { status: 502, title: 'The model answered with nothing' },
  MAX_TURNS_REACHED: { status: 500, title: 'The run reached its turn limit' },
  TOKEN_LIMIT_REACHED: { status: 500, title: 'The run reached its token limit' },
  AGENT_RUNTIME_ERROR: { status: 500, title: 'The agent failed' },
  // tools (reported to the model; the status matters when a route runs one)
  TOOL_INPUT_INVALID: { status: 400, title: 'The tool input is invalid' },
  TOOL_FAILED: { status: 400, title: 'The tool could not do what was asked' },
  TOOL_ABORTED: { status: 499, title: 'The tool was stopped' },
  WEB_REQUEST_FAILED: { status: 502, title: 'A web request failed' },
  BROWSER_UNAVAILABLE: { status: 503, title: 'The browser is missing, busy or failed to start' },
  // llm
  LLM_NOT_CONFIGURED: { status: 503, title: 'No model provider is configured' },
  LLM_REQUEST_FAILED: { status: 502, title: 'The model request failed' },
  LLM_ABORTED: { status: 499, title: 'The model request was stopped' },
  LLM_TIMEOUT: { status: 504, title: 'The model request timed out' },
  // media (image, speech, transcription and video services)
  MEDIA_NOT_CONFIGURED: { status: 503, title: 'No media provider of this kind is configured' },
  MEDIA_REQUEST_FAILED: { status: 502, title: 'The media service request failed' },
  MEDIA_REFUSED: { status: 422, title: 'The media service refused the request (content policy)' },
  MEDIA_TIMEOUT: { status: 504, title: 'The media service did not answer in time' },
  MEDIA_INVALID_OUTPUT: { status: 502, title: 'The media service answered something other than the media asked for' },
  // eval (GAIA runner)
  EVAL_DATASET_NOT_FOUND: { status: 404, title: 'The GAIA dataset is missing' },
  EVAL_DATASET_INVALID: { status: 400, title: 'The GAIA dataset is invalid' },
  EVAL_RUN_NAME_INVALID: { status: 400, title: 'The run name is invalid' },
  EVAL_RUN_NOT_FOUND: { status: 404, title: 'No such eval run' },
  EVAL_RUN_LOCKED: { status: 409, title: 'The eval run is running elsewhere' },
  EVAL_RUN_MISMATCH: { status: 409, title: 'The eval run was started with other settings' },
  EVAL_TASK_INTERRUPTED: { status: 500, title: 'The eval task was interrupted' },
  EVAL_TASK_FAILED: { status: 500, title: 'The eval task failed' },
  EVAL_HUB_FAILED: { status: 502, title: 'Downloading from the hub failed' },
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERROR_CATALOGUE

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOGUE, value)
}

export function isBerthError(value: unknown, code?: ErrorCode): value is BerthError {
  return value instanceof BerthError && (code === undefined || value.code === code)
}

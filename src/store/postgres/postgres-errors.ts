import { BerthError } from '../../core/errors.js'

/** PostgreSQL's SQLSTATE (`23505`) or Node's socket code (`ECONNREFUSED`) of an error from pg. */
export function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

export const UNIQUE_VIOLATION = '23505'
export const FOREIGN_KEY_VIOLATION = '23503'

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
])

/** Why the server cannot be used right now, in words; undefined when the error is about the query, not the server. */
function unavailableReason(error: unknown): string | undefined {
  const code = pgCode(error)
  const message = error instanceof Error ? error.message : String(error)
  if (code === '28P01' || code === '28000') return `the server refused the credentials (${message})`
  if (code === '3D000') return `the database does not exist (${message})`
  if (code === '53300') return `the server has no free connection (${message})`
  if (code === '25006') return `the server accepts no writes: a read-only replica or standby (${message})`
  if (code?.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') {
    return `the connection failed or was closed by the server (${message})`
  }
  if (code !== undefined && SOCKET_CODES.has(code)) return `it cannot be reached (${code}: ${message})`
  if (/certificate|self[- ]signed|SSL|TLS/i.test(message) && !/^\d/.test(code ?? '')) {
    return `the TLS handshake failed (${message})`
  }
  if (/Connection terminated|connection timeout|timeout exceeded when trying to connect/i.test(message)) {
    return `the connection was lost or timed out (${message})`
  }
  return undefined
}

/**
 * Turn a failure that is the server's (down, unreachable, credentials, TLS,
 * disk full) into berth's typed error naming `DATABASE_URL`; anything else is
 * returned as it is, for the caller to map (unique and foreign keys).
 */
export function mapPostgresError(error: unknown, where: string): unknown {
  if (error instanceof BerthError) return error
  if (pgCode(error) === '53100') {
    return new BerthError(
      'DISK_FULL',
      `PostgreSQL at ${where} is out of disk space (${(error as Error).message}). Nothing was half-written.`,
      { cause: error, details: { database: where } },
    )
  }
  const reason = unavailableReason(error)
  if (reason === undefined) return error
  return new BerthError('DATABASE_UNAVAILABLE', `PostgreSQL at ${where} (DATABASE_URL) cannot be used: ${reason}.`, {
    cause: error,
    details: { setting: 'DATABASE_URL', database: where, code: pgCode(error) ?? null },
  })
}

import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import type pg from 'pg'
import { BerthError } from '../../core/errors.js'

/** What berth is told about its PostgreSQL server (settings `databaseUrl`, `databasePoolSize`, `databaseCaFile`). */
export interface PostgresSettings {
  /** `postgres://user:password@host:port/database?sslmode=…`, as managed providers hand it out. */
  url: string
  /** Connections this instance keeps at most (each berth instance has its own pool). */
  poolSize?: number
  /** PEM file of the certificate authority that signed the server's certificate (providers with their own CA). */
  caFile?: string | null
  /** How long opening a connection may take before the server counts as unreachable. */
  connectTimeoutMs?: number
}

export const DEFAULT_POOL_SIZE = 10
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'] as const
type SslMode = (typeof SSL_MODES)[number]
/** libpq's TLS parameters: berth reads them itself, so pg's own reading of them (stricter than libpq's) does not apply. */
const TLS_PARAMETERS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'uselibpqcompat', 'sslnegotiation']

/**
 * pg's pool settings for a `DATABASE_URL`. TLS follows libpq's `sslmode`
 * (what Render, Neon, Supabase and others document):
 * - absent, `disable`, `allow`, `prefer`: no TLS (berth does not fall back between the two; write `require`)
 * - `require`: encrypted, the certificate is not checked, unless a CA is given (then as `verify-ca`)
 * - `verify-ca`: encrypted, the certificate must chain to the CA (the given one, else the system's)
 * - `verify-full`: as `verify-ca`, and the certificate must name the host
 * The CA comes from `sslrootcert=<file>` in the URL or the `databaseCaFile` setting.
 *
 * @example
 *   new pg.Pool(postgresPoolConfig({ url: 'postgres://u:p@db.example.com/berth?sslmode=verify-full' }))
 */
export function postgresPoolConfig(settings: PostgresSettings): pg.PoolConfig {
  let url: URL
  try {
    url = new URL(settings.url)
  } catch {
    throw invalid('DATABASE_URL is not a URL; write postgres://user:password@host:port/database.')
  }
  if (!/^postgres(ql)?:$/.test(url.protocol)) {
    throw invalid('DATABASE_URL must start with postgres:// or postgresql://.')
  }
  const mode = (url.searchParams.get('sslmode') ?? 'disable') as SslMode
  if (!SSL_MODES.includes(mode)) {
    throw invalid(`DATABASE_URL has sslmode=${mode}; use one of ${SSL_MODES.join(', ')}.`)
  }
  const caFile = url.searchParams.get('sslrootcert') ?? settings.caFile ?? null
  const certFile = url.searchParams.get('sslcert')
  const keyFile = url.searchParams.get('sslkey')
  for (const name of TLS_PARAMETERS) url.searchParams.delete(name)

  return {
    connectionString: url.toString(),
    ssl: tlsOptions(mode, { ca: caFile, cert: certFile, key: keyFile }),
    max: settings.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMillis: settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    application_name: 'berth',
    // TCP keepalive: a connection whose server vanished (failover, a dropped NAT entry) is noticed, not waited on.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // Idle connections go after a while, so an instance that is quiet holds few of the server's connections.
    idleTimeoutMillis: 30_000,
  }
}

function tlsOptions(
  mode: SslMode,
  files: { ca: string | null; cert: string | null; key: string | null },
): false | ConnectionOptions {
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') return false
  const options: ConnectionOptions = {}
  if (files.ca) options.ca = readPem(files.ca, 'the CA certificate (databaseCaFile or sslrootcert)')
  if (files.cert) options.cert = readPem(files.cert, 'the client certificate (sslcert)')
  if (files.key) options.key = readPem(files.key, 'the client key (sslkey)')
  if (mode === 'no-verify' || (mode === 'require' && !files.ca)) {
    options.rejectUnauthorized = false
  } else if (mode === 'require' || mode === 'verify-ca') {
    // The chain is checked, the host name is not.
    options.checkServerIdentity = () => undefined
  }
  return options
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new BerthError('CONFIG_INVALID', `Cannot read ${what} at ${file}: ${(error as Error).message}.`, {
      cause: error,
      details: { setting: 'DATABASE_URL', file },
    })
  }
}

function invalid(message: string): BerthError {
  return new BerthError('CONFIG_INVALID', message, { details: { setting: 'DATABASE_URL' } })
}

/** The URL without its password, for messages and logs. */
export function redactDatabaseUrl(text: string): string {
  try {
    const url = new URL(text)
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    return 'DATABASE_URL'
  }
}

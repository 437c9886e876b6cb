import { BerthError } from '../core/errors.js'
import type { UpgradeProgress } from './sqlite/schema-upgrade.js'
import { SqliteStore } from './sqlite/sqlite-store.js'
import type { Store } from './store.js'

/** Which database holds the sessions and their events. */
export type StoreLocation =
  | { kind: 'sqlite'; file: string }
  | { kind: 'postgres'; url: string; poolSize?: number; caFile?: string | null }

export interface OpenStoreOptions {
  /** Inspect without writing (doctor, backup verification); no schema step runs. */
  readonly?: boolean
  /** Called when a follower throws; the store itself carries on. */
  onListenerError?: (error: unknown) => void
  /** SQLite: the background WAL checkpoint failed; SQLite's own checkpoint takes over. */
  onCheckpointError?: (error: Error) => void
  /** SQLite: the path of the backup taken before a schema step changes an existing file. */
  onMigrationBackup?: (file: string, backup: { pending: string[]; reused: boolean }) => void
  /** Where an upgrade of existing data is (backup, then each schema step). */
  onUpgradeProgress?: (progress: UpgradeProgress) => void
  /** PostgreSQL: the LISTEN connection that carries other instances' commits failed (it reconnects by itself). */
  onBusError?: (error: unknown) => void
}

/**
 * The configured store's location: `DATABASE_URL` (postgres://…) when set,
 * else the data root's `events.db`.
 *
 * @example
 *   storeLocation({ databaseUrl: null }, '/var/data/events.db') // { kind: 'sqlite', file: '/var/data/events.db' }
 */
export function storeLocation(
  config: { databaseUrl?: string | null; databasePoolSize?: number; databaseCaFile?: string | null },
  databaseFile: string,
): StoreLocation {
  const url = config.databaseUrl?.trim()
  if (!url) return { kind: 'sqlite', file: databaseFile }
  if (/^postgres(ql)?:\/\//i.test(url)) {
    return { kind: 'postgres', url, poolSize: config.databasePoolSize, caFile: config.databaseCaFile ?? null }
  }
  throw new BerthError(
    'CONFIG_INVALID',
    'DATABASE_URL must be a postgres:// or postgresql:// URL (leave it unset for the embedded SQLite database).',
    { details: { setting: 'DATABASE_URL' } },
  )
}

/**
 * Open the store at `location` and bring its schema up to date: the one
 * place that chooses a backend. Every backend passes the same contract suite
 * (test/store/store-contract.ts).
 *
 * @example
 *   const store = await openStore(storeLocation(config, paths.database), { onListenerError })
 */
export async function openStore(location: StoreLocation, options: OpenStoreOptions = {}): Promise<Store> {
  switch (location.kind) {
    case 'sqlite':
      return SqliteStore.open({ file: location.file, ...options })
    case 'postgres': {
      // Loaded on first use: an embedded (SQLite) server never loads pg.
      const { PostgresStore } = await import('./postgres/postgres-store.js')
      return PostgresStore.open({
        url: location.url,
        poolSize: location.poolSize,
        caFile: location.caFile,
        readonly: options.readonly,
        onListenerError: options.onListenerError,
        onBusError: options.onBusError,
      })
    }
  }
}

import type { Store } from '../store/store.js'

/** What doctor and /readyz say about the database beyond "it takes a writer". */
export interface StoreHealth {
  backend: Store['dialect']
  /** Median time of a few write-lock round trips (`Store.ping`), in ms. */
  pingMs: number
  /** PostgreSQL: this instance's connection pool; null on SQLite (one embedded connection). */
  pool: { total: number; idle: number; waiting: number; max: number } | null
}

interface WithPool {
  poolStats(): { total: number; idle: number; waiting: number; max: number }
}

/**
 * Ping the store `samples` times and report the median latency and, for a
 * pooled backend, the pool's numbers. Throws what `ping` throws (e.g.
 * `DATABASE_UNAVAILABLE` when PostgreSQL is down).
 *
 * @example
 *   const { pingMs, pool } = await storeHealth(store)
 */
export async function storeHealth(store: Store, samples = 3): Promise<StoreHealth> {
  const times: number[] = []
  for (let i = 0; i < samples; i++) {
    const start = performance.now()
    await store.ping()
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  const pooled = typeof (store as Partial<WithPool>).poolStats === 'function' ? (store as unknown as WithPool) : null
  return {
    backend: store.dialect,
    pingMs: Math.round((times[Math.floor(times.length / 2)] ?? 0) * 100) / 100,
    pool: pooled ? pooled.poolStats() : null,
  }
}

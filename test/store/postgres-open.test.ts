import pg from 'pg'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { MIGRATION_NAMES } from '../../src/store/migrations.js'
import { openStore, storeLocation } from '../../src/store/open-store.js'
import { postgresPoolConfig } from '../../src/store/postgres/connection-config.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import {
  type PostgresCluster,
  postgresUnavailableReason,
  sharedPostgres,
  startPostgresCluster,
  TEST_PASSWORD,
} from '../helpers/postgres.js'

const skip = postgresUnavailableReason()
if (skip) console.warn(`PostgreSQL start-up tests skipped: ${skip}`)

function unavailable(...words: string[]) {
  return (error: unknown) =>
    isBerthError(error, 'DATABASE_UNAVAILABLE') &&
    error.message.includes('DATABASE_URL') &&
    !error.message.includes(TEST_PASSWORD) &&
    words.every((word) => error.message.includes(word))
}

/** Whether the server sees this pool's connection as TLS. */
async function usesTls(config: pg.PoolConfig): Promise<boolean> {
  const client = new pg.Client(config)
  await client.connect()
  try {
    const result = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')
    return result.rows[0]?.ssl === true
  } finally {
    await client.end()
  }
}

describe.skipIf(Boolean(skip))('PostgresStore: opening', () => {
  let shared: Promise<PostgresCluster> | undefined
  const cluster = () => {
    shared ??= sharedPostgres(inject('postgresRunDir'))
    return shared
  }

  it('refuses to start, naming DATABASE_URL, when nothing listens, the password is wrong or the database is missing', async () => {
    const { port, url } = await cluster()
    const database = await (await cluster()).createDatabase()
    await expect(
      PostgresStore.open({ url: `postgres://postgres:${TEST_PASSWORD}@127.0.0.1:1/berth`, connectTimeoutMs: 2000 }),
    ).rejects.toSatisfy(unavailable('cannot be reached'))
    await expect(PostgresStore.open({ url: database.replace(TEST_PASSWORD, 'wrong-password') })).rejects.toSatisfy(
      unavailable('credentials'),
    )
    await expect(PostgresStore.open({ url: url('no_such_database') })).rejects.toSatisfy(
      unavailable('does not exist', `127.0.0.1:${port}`),
    )
  })

  it('speaks TLS as sslmode says: require encrypts, verify-full checks the certificate against the CA', async () => {
    const { url, caFile } = await cluster()
    expect(await usesTls(postgresPoolConfig({ url: url() }))).toBe(false)
    expect(await usesTls(postgresPoolConfig({ url: `${url()}?sslmode=require` }))).toBe(true)
    const byName = url().replace('127.0.0.1', 'localhost')
    expect(await usesTls(postgresPoolConfig({ url: `${byName}?sslmode=verify-full`, caFile }))).toBe(true)
    expect(await usesTls(postgresPoolConfig({ url: `${url()}?sslmode=verify-ca&sslrootcert=${caFile}` }))).toBe(true)
    // The certificate names localhost only: by address, verify-ca (the chain) passes and verify-full (the name) fails.
    await expect(usesTls(postgresPoolConfig({ url: `${url()}?sslmode=verify-full`, caFile }))).rejects.toThrow(
      /127\.0\.0\.1/,
    )

    const database = await (await cluster()).createDatabase()
    const store = await PostgresStore.open({
      url: `${database.replace('127.0.0.1', 'localhost')}?sslmode=verify-full`,
      caFile,
    })
    await store.ping()
    await store.close()
    // Without the CA the server's certificate is not trusted.
    await expect(
      PostgresStore.open({ url: `${database.replace('127.0.0.1', 'localhost')}?sslmode=verify-full` }),
    ).rejects.toSatisfy(unavailable('TLS'))
    expect(() => postgresPoolConfig({ url: `${database}?sslmode=sometimes` })).toThrow(/sslmode=sometimes/)
    expect(() => postgresPoolConfig({ url: `${database}?sslmode=require`, caFile: '/nonexistent/ca.pem' })).toThrow(
      /nonexistent/,
    )
  })

  it('two instances starting together on a new database migrate it once', async () => {
    const url = await (await cluster()).createDatabase()
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open({ url, poolSize: 2 })))
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const rows = await client.query<{ name: string }>('SELECT name FROM kysely_migration ORDER BY name')
    await client.end()
    expect(rows.rows.map((row) => row.name)).toEqual([...MIGRATION_NAMES])
    await stores[0]?.createSession({ id: 's', workspaceDir: '/w/s', deviceId: 'd' })
    expect((await stores[2]?.getSession('s'))?.id).toBe('s')
    for (const store of stores) await store.close()
  })

  it('a commit on one instance reaches followers on another in order, once; a cancel request reaches every instance', async () => {
    const url = await (await cluster()).createDatabase()
    const a = await PostgresStore.open({ url })
    const b = await PostgresStore.open({ url })
    await a.createSession({ id: 's', workspaceDir: '/w/s', deviceId: 'd' })
    await a.append('s', { type: 'system', content: { n: 0 } })
    const seen: number[] = []
    b.follow('s', 0, (event) => seen.push(event.seq))
    const cancels: string[] = []
    b.onCancelRequest((sessionId) => cancels.push(sessionId))
    const live: string[] = []
    b.onLive((sessionId, events) => {
      for (const event of events) live.push(`${sessionId}:${(event.content as { text: string }).text}`)
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    for (let round = 0; round < 10; round++) {
      await Promise.all([1, 2, 3].map((n) => a.append('s', { type: 'system', content: { round, n } })))
    }
    await a.requestCancel('s')
    // A delta too long for one notification arrives in pieces that add up to it.
    const long = 'é'.repeat(20_000)
    a.broadcastLive('s', [{ type: 'agent_response_delta', content: { text: long } }])
    const deadline = Date.now() + 5_000
    while (
      (seen.length < 31 || cancels.length === 0 || live.map((piece) => piece.slice(2)).join('').length < long.length) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(seen).toEqual(Array.from({ length: 31 }, (_, i) => i + 1))
    expect(cancels).toEqual(['s'])
    expect(live.map((piece) => piece.slice(2)).join('')).toBe(long)
    expect(live.every((piece) => piece.startsWith('s:'))).toBe(true)
    expect(b.busStats()).toMatchObject({ listening: true })
    expect(b.busStats().lagMs).toBeGreaterThanOrEqual(0)
    await a.close()
    await b.close()
  })

  it('after its LISTEN connection is cut, an instance reconnects and delivers what was committed meanwhile', async () => {
    const url = await (await cluster()).createDatabase()
    const a = await PostgresStore.open({ url })
    const b = await PostgresStore.open({ url })
    await a.createSession({ id: 's', workspaceDir: '/w/s', deviceId: 'd' })
    const seen: number[] = []
    b.follow('s', 0, (event) => seen.push(event.seq))
    await new Promise((resolve) => setTimeout(resolve, 100))
    // Cut every LISTEN connection (as a failover would), then commit while it is down.
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
    )
    await admin.end()
    await Promise.all([1, 2, 3].map((n) => a.append('s', { type: 'system', content: { n } })))
    const deadline = Date.now() + 10_000
    while (seen.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(seen).toEqual([1, 2, 3])
    await a.append('s', { type: 'system', content: { n: 4 } })
    while (seen.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(seen).toEqual([1, 2, 3, 4])
    await a.close()
    await b.close()
  })

  it('openStore chooses PostgreSQL for a postgres:// DATABASE_URL and refuses other schemes', async () => {
    const url = await (await cluster()).createDatabase()
    const location = storeLocation({ databaseUrl: url, databasePoolSize: 3 }, '/unused/events.db')
    expect(location).toMatchObject({ kind: 'postgres', url, poolSize: 3 })
    const store = await openStore(location)
    expect(store.dialect).toBe('postgres')
    expect((store as PostgresStore).poolStats().max).toBe(3)
    await store.close()
    expect(() => storeLocation({ databaseUrl: 'mysql://x/y' }, '/unused/events.db')).toThrow(/DATABASE_URL/)
  })
})

describe.skipIf(Boolean(skip))('PostgresStore: the server goes away while running', () => {
  let own: PostgresCluster | undefined
  afterAll(async () => {
    await own?.stop()
  })

  it('fails appends and ping with DATABASE_UNAVAILABLE while it is down, and carries on when it is back', async () => {
    own = await startPostgresCluster()
    const store = await PostgresStore.open({ url: await own.createDatabase(), connectTimeoutMs: 2000 })
    await store.createSession({ id: 's', workspaceDir: '/w/s', deviceId: 'd' })
    expect((await store.append('s', { type: 'system', content: { n: 1 } })).seq).toBe(1)

    await own.pause()
    await expect(store.append('s', { type: 'system', content: { n: 2 } })).rejects.toSatisfy(unavailable())
    await expect(store.ping()).rejects.toSatisfy(unavailable())
    await expect(store.getSession('s')).rejects.toSatisfy(unavailable())

    await own.resume()
    expect((await store.append('s', { type: 'system', content: { n: 3 } })).seq).toBe(2)
    expect((await store.readEvents('s')).events.map((e) => JSON.parse(e.payload).content.n)).toEqual([1, 3])
    await store.close()
  })
})

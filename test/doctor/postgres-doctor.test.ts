import { describe, expect, inject, it } from 'vitest'
import { MIGRATION_NAMES } from '../../src/store/migrations.js'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { runBerth } from '../helpers/berth-process.js'
import { postgresUnavailableReason, sharedPostgres, TEST_PASSWORD } from '../helpers/postgres.js'
import { tempDir } from '../helpers/temp-dir.js'

const skip = postgresUnavailableReason()
if (skip) console.warn(`berth doctor on PostgreSQL skipped: ${skip}`)

async function doctor(root: string, databaseUrl: string) {
  const result = await runBerth(['doctor', '--json', '--data-dir', root], {
    cwd: root,
    env: { DATABASE_URL: databaseUrl },
  })
  return { code: result.code, report: JSON.parse(result.stdout) as Record<string, any> }
}

// Each test starts the CLI, which takes a while on a busy machine.
describe.skipIf(Boolean(skip))('berth doctor with DATABASE_URL', { timeout: 120_000 }, () => {
  it('reports the PostgreSQL database: ping latency, pool, schema, counts; the password never shown', async () => {
    const url = await (await sharedPostgres(inject('postgresRunDir'))).createDatabase()
    const store = await PostgresStore.open({ url })
    await store.createSession({ id: 's1', workspaceDir: '/elsewhere/s1', deviceId: 'd' })
    await store.append('s1', { type: 'user_message', content: { text: 'hi' } })
    await store.close()

    const { code, report } = await doctor(await tempDir(), url)
    expect(code).toBe(0)
    expect(report.database).toMatchObject({
      backend: 'postgres',
      exists: true,
      integrity: ['ok'],
      pendingMigrations: [],
      sessions: 1,
      events: 1,
      pool: expect.objectContaining({ max: 10 }),
    })
    expect(report.database.pingMs).toBeGreaterThan(0)
    expect(report.database.location).toContain('***')
    expect(JSON.stringify(report)).not.toContain(TEST_PASSWORD)
    expect(report.checks.find((check: { name: string }) => check.name === 'postgres')?.status).toBe('ok')
  })

  it('reports a database berth never started on as empty with every schema step pending, not as a failure', async () => {
    const url = await (await sharedPostgres(inject('postgresRunDir'))).createDatabase()
    const { code, report } = await doctor(await tempDir(), url)
    expect(code).toBe(0)
    expect(report.database).toMatchObject({ backend: 'postgres', sessions: 0, events: 0 })
    expect(report.database.pendingMigrations).toEqual([...MIGRATION_NAMES])
    const status = (name: string) => report.checks.find((check: { name: string }) => check.name === name)?.status
    expect([status('postgres'), status('schema'), status('contents'), status('database')]).toEqual([
      'ok',
      'warn',
      'ok',
      undefined,
    ])
  })

  it('fails the database check, naming DATABASE_URL, when PostgreSQL refuses the credentials', async () => {
    const url = (await sharedPostgres(inject('postgresRunDir'))).url()
    const { code, report } = await doctor(await tempDir(), url.replace(TEST_PASSWORD, 'wrong'))
    expect(code).not.toBe(0)
    const check = report.checks.find((c: { name: string }) => c.name === 'database')
    expect(check).toMatchObject({ status: 'fail' })
    expect(check.detail).toMatch(/DATABASE_UNAVAILABLE.*DATABASE_URL.*credentials/)
  })
})

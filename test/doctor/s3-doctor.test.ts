import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { runBerth } from '../helpers/berth-process.js'
import { tryMount, unmount } from '../helpers/mount.js'
import { postgresUnavailableReason, sharedPostgres } from '../helpers/postgres.js'
import { freshBucket, type Radosgw, radosgwUnavailableReason, sharedRadosgw } from '../helpers/radosgw.js'
import { tempDir } from '../helpers/temp-dir.js'

const skip = radosgwUnavailableReason()
if (skip) console.warn(`berth doctor on S3 skipped: ${skip}`)

async function doctor(rgw: Radosgw, bucket: string, secret = rgw.secretAccessKey, root?: string) {
  root ??= await tempDir()
  const result = await runBerth(['doctor', '--json', '--data-dir', root], {
    cwd: root,
    env: {
      BERTH_WORKSPACE_URL: `s3://${bucket}/berth`,
      AWS_ACCESS_KEY_ID: rgw.accessKeyId,
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_REGION: rgw.region,
      AWS_ENDPOINT_URL_S3: rgw.endpoint,
    },
  })
  const report = JSON.parse(result.stdout) as Record<string, any>
  return { code: result.code, report, s3: report.checks.find((c: { name: string }) => c.name === 's3') }
}

// Each test starts the CLI, which takes a while on a busy machine.
describe.skipIf(Boolean(skip))('berth doctor with BERTH_WORKSPACE_URL', { timeout: 120_000 }, () => {
  it('checks the bucket and a write canary and reports their times', async () => {
    const rgw = await sharedRadosgw(inject('radosgwRunDir'))
    const bucket = await freshBucket(rgw, 'doctor')
    const { code, report, s3 } = await doctor(rgw, bucket)
    expect(s3?.status).toBe('ok')
    expect(report.bucket).toMatchObject({ url: `s3://${bucket}/berth`, endpoint: rgw.endpoint })
    expect(report.bucket.bucketMs).toBeGreaterThan(0)
    expect(report.bucket.canaryMs).toBeGreaterThan(0)
    expect(code).toBe(0)
  })

  it('does not report sessions as missing their folders when the folders are in the bucket', async () => {
    const rgw = await sharedRadosgw(inject('radosgwRunDir'))
    const root = await tempDir()
    const store = await SqliteStore.open({ file: join(root, 'events.db') })
    await store.createSession({ id: 'c0ffee00-0000-4000-8000-000000000001', workspaceDir: '/w/x', deviceId: 'd' })
    await store.close()
    // A local workspace folder as an older berth (or a local-disk past) left it.
    await mkdir(join(root, 'workspace', 'stray'), { recursive: true })
    const { code, report } = await doctor(rgw, await freshBucket(rgw, 'doctor'), undefined, root)
    expect(report.checks.find((c: { name: string }) => c.name === 'workspaces')).toMatchObject({ status: 'ok' })
    expect(report.workspaces).toMatchObject({ withoutSession: [], sessionsWithoutWorkspace: [] })
    expect(code).toBe(0)
  })

  it('fails naming BERTH_WORKSPACE_URL when the bucket is missing, and the keys when the secret is wrong', async () => {
    const rgw = await sharedRadosgw(inject('radosgwRunDir'))
    const missing = await doctor(rgw, 'berth-doctor-no-such-bucket')
    expect(missing.code).not.toBe(0)
    expect(missing.report.bucket).toBeNull()
    expect(missing.s3).toMatchObject({ status: 'fail' })
    expect(missing.s3.detail).toMatch(
      /STORAGE_UNAVAILABLE.*berth-doctor-no-such-bucket does not exist.*BERTH_WORKSPACE_URL/,
    )

    const refused = await doctor(rgw, await freshBucket(rgw, 'doctor'), 'wrong-secret-91c2')
    expect(refused.code).not.toBe(0)
    expect(refused.s3.detail).toMatch(/refused the credentials.*AWS_SECRET_ACCESS_KEY/)
    expect(JSON.stringify(refused.report)).not.toContain('wrong-secret-91c2')
  })
})

describe.skipIf(Boolean(skip || postgresUnavailableReason()))(
  'berth doctor on a root without a disk',
  { timeout: 120_000 },
  () => {
    it('passes with sessions in PostgreSQL and workspaces in S3, fails with only the workspaces elsewhere', async (ctx) => {
      const root = join(await tempDir(), 'ram')
      if (!tryMount(root, 'size=4m')) ctx.skip('cannot mount a tmpfs here (needs root on Linux)')
      try {
        const rgw = await sharedRadosgw(inject('radosgwRunDir'))
        const bucket = await freshBucket(rgw, 'doctor')
        const s3 = {
          BERTH_WORKSPACE_URL: `s3://${bucket}/berth`,
          AWS_ACCESS_KEY_ID: rgw.accessKeyId,
          AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
          AWS_REGION: rgw.region,
          AWS_ENDPOINT_URL_S3: rgw.endpoint,
        }
        const run = async (env: Record<string, string>) => {
          const result = await runBerth(['doctor', '--json', '--data-dir', root], { cwd: root, env })
          const report = JSON.parse(result.stdout) as Record<string, any>
          return {
            code: result.code,
            report,
            mode: report.checks.find((c: { name: string }) => c.name === 'storage mode'),
          }
        }
        const url = await (await sharedPostgres(inject('postgresRunDir'))).createDatabase()
        await (await PostgresStore.open({ url })).close() // the schema, as the first berth serve leaves it
        const scaled = await run({ ...s3, DATABASE_URL: url })
        expect(scaled.report.storage.mode).toBe('ephemeral')
        expect(scaled.mode).toMatchObject({ status: 'ok' })
        expect(scaled.mode.detail).toMatch(/as expected here: sessions are in PostgreSQL/)
        expect(scaled.report.checks.filter((c: { status: string }) => c.status === 'fail')).toEqual([])
        expect(scaled.code).toBe(0)

        const sqlite = await run(s3)
        expect(sqlite.mode).toMatchObject({ status: 'fail' })
        expect(sqlite.mode.detail).toMatch(/^EPHEMERAL/)
        expect(sqlite.code).not.toBe(0)
      } finally {
        unmount(root)
      }
    })
  },
)

import { describe, expect, inject, it } from 'vitest'
import { runBerth } from '../helpers/berth-process.js'
import { freshBucket, type Radosgw, radosgwUnavailableReason, sharedRadosgw } from '../helpers/radosgw.js'
import { tempDir } from '../helpers/temp-dir.js'

const skip = radosgwUnavailableReason()
if (skip) console.warn(`berth doctor on S3 skipped: ${skip}`)

async function doctor(rgw: Radosgw, bucket: string, secret = rgw.secretAccessKey) {
  const root = await tempDir()
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

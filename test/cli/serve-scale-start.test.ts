import { createServer } from 'node:net'
import { describe, expect, inject, it } from 'vitest'
import { startBerth, startServer } from '../helpers/berth-process.js'
import { postgresUnavailableReason, sharedPostgres } from '../helpers/postgres.js'
import { freshBucket, type Radosgw, radosgwUnavailableReason, sharedRadosgw } from '../helpers/radosgw.js'
import { tempDir } from '../helpers/temp-dir.js'

const skip = radosgwUnavailableReason()
if (skip) console.warn(`berth serve on S3 skipped: ${skip}`)

function s3Env(rgw: Radosgw, bucket: string, secret = rgw.secretAccessKey) {
  return {
    BERTH_WORKSPACE_URL: `s3://${bucket}/berth`,
    AWS_ACCESS_KEY_ID: rgw.accessKeyId,
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_REGION: rgw.region,
    AWS_ENDPOINT_URL_S3: rgw.endpoint,
  }
}

/** `berth serve` that must not start: its exit code and what it said. */
async function refused(env: Record<string, string>) {
  const root = await tempDir()
  const berth = startBerth(['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', root], { cwd: root, env })
  // A server that starts anyway is stopped at once, so the test fails quickly instead of timing out.
  const started = berth.waitFor(/listening on http/, 100_000).then(
    () => berth.stop().then(() => 'started' as const),
    () => null,
  )
  const code = await Promise.race([berth.exited, started.then((s) => s ?? berth.exited)])
  const { stdout, stderr } = berth.output()
  return { code, said: `${stdout}\n${stderr}` }
}

/** A port of this machine where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

// Each test starts the CLI, which takes a while on a busy machine.
describe('berth serve refuses to start, naming the setting', { timeout: 120_000 }, () => {
  it('when PostgreSQL does not answer at DATABASE_URL (the password not shown)', async () => {
    const { code, said } = await refused({
      DATABASE_URL: `postgres://berth:pw-6b1e0c@127.0.0.1:${await closedPort()}/berth`,
    })
    expect(code).toBe(1)
    expect(said).toContain('DATABASE_URL')
    expect(said).not.toContain('pw-6b1e0c')
    expect(said).not.toMatch(/listening on http/)
  })

  it.skipIf(Boolean(skip))('when the bucket of BERTH_WORKSPACE_URL does not exist', async () => {
    const rgw = await sharedRadosgw(inject('radosgwRunDir'))
    const { code, said } = await refused(s3Env(rgw, 'berth-serve-no-such-bucket'))
    expect(code).toBe(1)
    expect(said).toMatch(/the bucket berth-serve-no-such-bucket does not exist.*BERTH_WORKSPACE_URL/)
  })

  it.skipIf(Boolean(skip))('when the server refuses the keys (the secret not shown)', async () => {
    const rgw = await sharedRadosgw(inject('radosgwRunDir'))
    const { code, said } = await refused(s3Env(rgw, await freshBucket(rgw, 'serve'), 'wrong-secret-5d0a'))
    expect(code).toBe(1)
    expect(said).toMatch(/refused the credentials.*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/)
    expect(said).not.toContain('wrong-secret-5d0a')
  })

  it.skipIf(Boolean(skip || postgresUnavailableReason()))(
    'and starts on PostgreSQL and a bucket that is there: /readyz and /metrics report both',
    async () => {
      const rgw = await sharedRadosgw(inject('radosgwRunDir'))
      const root = await tempDir()
      const url = await (await sharedPostgres(inject('postgresRunDir'))).createDatabase()
      const server = await startServer({
        cwd: root,
        env: { ...s3Env(rgw, await freshBucket(rgw, 'serve')), DATABASE_URL: url },
        args: ['--data-dir', root],
      })
      try {
        const ready = await fetch(`${server.url}/readyz`)
        const body = (await ready.json()) as Record<string, any>
        expect(ready.status).toBe(200)
        expect(body.store).toMatchObject({ backend: 'postgres', writable: true })
        expect(body.workspaces).toMatchObject({ backend: 's3', reachable: true })
        // Nothing users keep is on this instance's folder: not 'ephemeral', whatever its disk is.
        expect(body.storage).toMatchObject({ mode: 'external', persistent: true })
        const metrics = await (await fetch(`${server.url}/metrics`)).text()
        expect(metrics).toMatch(/^berth_database_up 1$/m)
        expect(metrics).toMatch(/^berth_database_pool_connections\{state="total"\} [1-9]/m)
        // The /readyz above checked the bucket through the storage's client.
        expect(metrics).toMatch(/^berth_s3_requests_total\{operation="HeadBucket"\} [1-9]/m)
      } finally {
        expect(await server.stop()).toBe(0)
      }
    },
  )
})

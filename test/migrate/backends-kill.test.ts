import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { runMigration } from '../../src/migrate/migrate.js'
import { type PostgresCluster, postgresUnavailableReason, sharedPostgres, TEST_PASSWORD } from '../helpers/postgres.js'
import {
  freshBucket,
  type Radosgw,
  radosgwClient,
  radosgwUnavailableReason,
  sharedRadosgw,
} from '../helpers/radosgw.js'
import { buildBackendRoot, dumpPostgres, s3Credentials, s3Env } from './fixtures/backends.js'
import { dumpDatabase, snapshotTree } from './fixtures/data-trees.js'
import { startTransferCli } from './fixtures/transfer-cli-process.js'

const unavailable = postgresUnavailableReason() ?? radosgwUnavailableReason()
if (unavailable) console.warn(unavailable)

// Mid-workspace (two files verified), after a whole workspace, mid-database.
const KILL_POINTS = ['file-copied:2', 'unit-renamed:1', 'session-merged:1']

describe.skipIf(unavailable !== null)('berth migrate between backends killed with SIGKILL', () => {
  let base: string
  let source: string
  let pg: PostgresCluster
  let rgw: Radosgw
  let raw: S3Client
  let bucket: string
  let sourceTree: Awaited<ReturnType<typeof snapshotTree>>

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'berth-backends-kill-'))
    ;[pg, rgw] = await Promise.all([sharedPostgres(inject('postgresRunDir')), sharedRadosgw(inject('radosgwRunDir'))])
    raw = radosgwClient(rgw)
    bucket = await freshBucket(rgw, 'migrate-kill')
    source = join(base, 'source')
    await buildBackendRoot(source)
    sourceTree = await snapshotTree(source, { times: true })
  }, 120_000)

  afterAll(async () => {
    raw?.destroy()
    if (base) await rm(base, { recursive: true, force: true })
  })

  it('resumes up to PostgreSQL + S3 from every point without copying verified files again, and ends identical', async () => {
    const s3 = s3Credentials(rgw)
    const reference = await dumpDatabase(join(source, 'events.db'))
    const runs = await Promise.all(
      KILL_POINTS.map(async (point, i) => ({ point, url: await pg.createDatabase(), prefix: `kill${i}` })),
    )
    // One at a time: each run keeps its journal in the source root, named after its target.
    for (const { point, url, prefix } of runs) {
      const child = startTransferCli(
        ['migrate', '--from', source, '--to', url, '--workspace-to', `s3://${bucket}/${prefix}`],
        { cwd: base, env: { ...s3Env(rgw), BERTH_TEST_KILL_AT: point } },
      )
      expect({ point, exit: await child.exited }).toEqual({ point, exit: 'SIGKILL' })
    }
    const referenceObjects = await objects(raw, bucket, 'kill-reference')
    for (const { point, url, prefix } of runs) {
      const uploads: string[] = []
      const report = await runMigration({
        from: source,
        to: url,
        workspaceTo: `s3://${bucket}/${prefix}`,
        s3,
        onStep: (step, detail) => {
          if (step === 'file-copied') uploads.push(detail)
        },
      })
      expect({ point, status: report.status }).toEqual({ point, status: 'done' })
      expect({ point, db: await dumpPostgres(url) }).toEqual({ point, db: reference })
      const listed = await objects(raw, bucket, prefix)
      if (referenceObjects.length === 0) referenceObjects.push(...listed)
      expect({ point, listed }).toEqual({ point, listed: referenceObjects })
      // What the killed run verified is not uploaded again.
      // (Files copy four at a time, so a third may have been verified before the kill, never fewer than two.)
      if (point === 'file-copied:2') expect(uploads.length).toBeGreaterThanOrEqual(1)
      if (point === 'file-copied:2') expect(uploads.length).toBeLessThanOrEqual(5 - 2)
      if (point === 'unit-renamed:1') expect(report.folders).toMatchObject({ copied: 1, identical: 1 })
      if (point === 'session-merged:1') {
        expect(uploads).toEqual([])
        expect(report.sessions).toMatchObject({ identical: 1, inserted: 2 })
      }
    }
    expect(referenceObjects.length).toBeGreaterThan(5)
    expect(await snapshotTree(source, { times: true })).toEqual(sourceTree)
  }, 180_000)

  it('resumes the way back down after a kill mid-workspace and ends byte for byte like the source', async () => {
    const s3 = s3Credentials(rgw)
    const url = await pg.createDatabase()
    const workspaceUrl = `s3://${bucket}/down`
    expect((await runMigration({ from: source, to: url, workspaceTo: workspaceUrl, s3 })).status).toBe('done')
    const back = join(base, 'back')
    const child = startTransferCli(['migrate', '--from', url, '--workspace-from', workspaceUrl, '--to', back], {
      cwd: base,
      env: { ...s3Env(rgw), BERTH_TEST_KILL_AT: 'file-copied:3' },
    })
    expect(await child.exited).toBe('SIGKILL')
    const resumed = startTransferCli(['migrate', '--from', url, '--workspace-from', workspaceUrl, '--to', back], {
      cwd: base,
      env: s3Env(rgw),
    })
    expect(await resumed.exited).toBe(0)
    expect(resumed.output().stdout).toMatch(/Migration complete\./)
    // The plan names the database without its password, and the bucket.
    expect(resumed.output().stdout).toMatch(/from +postgres:\/\/\S+ \(PostgreSQL database\)\n +files in +s3:\/\//)
    expect(resumed.output().stdout).not.toContain(TEST_PASSWORD)
    expect(await dumpDatabase(join(back, 'events.db'))).toEqual(await dumpDatabase(join(source, 'events.db')))
    expect(await snapshotTree(join(back, 'workspace'))).toEqual(await snapshotTree(join(source, 'workspace')))
    // The journal and work folder are gone once the run is complete.
    await expect(readFile(join(back, '.berth-migrate'))).rejects.toThrow()
  }, 120_000)
})

/** Object keys below `<prefix>/` (prefix stripped) with their sizes. */
async function objects(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = []
  let token: string | undefined
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }),
    )
    for (const object of page.Contents ?? []) out.push(`${object.Key?.slice(prefix.length + 1)} ${object.Size}`)
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token !== undefined)
  return out.sort()
}

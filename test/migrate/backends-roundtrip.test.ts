import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { runMigration } from '../../src/migrate/migrate.js'
import { postgresUnavailableReason } from '../helpers/postgres.js'
import { freshBucket, radosgwUnavailableReason } from '../helpers/radosgw.js'
import {
  B_EMPTY,
  B_FILES,
  B_NOFOLDER,
  backendsForTests,
  buildBackendRoot,
  dumpPostgres,
  s3Credentials,
} from './fixtures/backends.js'
import { dumpDatabase, snapshotTree, UNICODE_NAME } from './fixtures/data-trees.js'

const unavailable = postgresUnavailableReason() ?? radosgwUnavailableReason()
if (unavailable) console.warn(unavailable)

describe.skipIf(unavailable !== null)('berth migrate between SQLite + disk and PostgreSQL + S3', () => {
  const env = backendsForTests('berth-backends-')

  it('moves a root into PostgreSQL + S3 and back byte for byte; reruns change nothing; the source stays as it was', async () => {
    const { base, pg, rgw, raw } = env
    const source = join(base, 'source')
    await buildBackendRoot(source)
    const sourceTree = await snapshotTree(source, { times: true })
    const sourceDb = await readFile(join(source, 'events.db'))
    const url = await pg.createDatabase()
    const bucket = await freshBucket(rgw, 'migrate-roundtrip')
    const s3 = s3Credentials(rgw)
    const workspaceUrl = `s3://${bucket}/prod`

    // A dry run plans against the target and writes nothing there.
    const dry = await runMigration({ from: source, to: url, workspaceTo: workspaceUrl, s3, dryRun: true })
    expect(dry).toMatchObject({ status: 'dry-run', summary: { sessions: { new: 3 }, files: { toCopy: 5 } } })
    expect(await dumpPostgres(url)).toEqual([])
    expect(await objectKeys(raw, bucket, '')).toEqual([])

    let planned: unknown = null
    const up = await runMigration({
      from: source,
      to: url,
      workspaceTo: workspaceUrl,
      s3,
      onPlan: (summary) => {
        planned = summary
      },
    })
    expect(up.status).toBe('done')
    expect(planned).toMatchObject({
      sessions: { total: 3, new: 3 },
      events: { total: 302, toCopy: 302 },
      folders: { total: 2, toCopy: 2 },
      files: { total: 5, toCopy: 5 },
    })
    expect(up).toMatchObject({ sessions: { inserted: 3 }, events: { inserted: 302 }, folders: { copied: 2 } })
    // Events, ids, seq, timestamps and payload text, and the share link, exactly as in SQLite.
    expect(await dumpPostgres(url)).toEqual(await dumpDatabase(join(source, 'events.db')))
    const keys = await objectKeys(raw, bucket, `prod/workspace/${B_FILES}/`)
    expect(keys).toContain(`prod/workspace/${B_FILES}/uploaded_files/${UNICODE_NAME}`)
    expect(keys).toContain(`prod/workspace/${B_FILES}/empty/deeper/`)
    expect(await objectKeys(raw, bucket, `prod/workspace/${B_EMPTY}/`)).toEqual([`prod/workspace/${B_EMPTY}/`])
    // The file index a berth instance serves S3 workspaces from (quota, ETags) knows every file with its SHA-256.
    expect(await indexedFiles(url, B_FILES)).toEqual({ files: 5, bytes: String(5 * 1024 * 1024 + 12 + 15 + 15000) })

    const back = join(base, 'back')
    // Down over TLS, the server's certificate checked against its own CA (BERTH_DATABASE_CA_FILE), as on managed providers.
    const tlsUrl = `${url.replace('127.0.0.1', 'localhost')}?sslmode=verify-full`
    const down = await runMigration({
      from: tlsUrl,
      workspaceFrom: workspaceUrl,
      to: back,
      s3,
      databaseCaFile: pg.caFile,
    })
    expect(down).toMatchObject({ status: 'done', sessions: { inserted: 3 }, folders: { copied: 2 } })
    expect(await dumpDatabase(join(back, 'events.db'))).toEqual(await dumpDatabase(join(source, 'events.db')))
    expect(await snapshotTree(join(back, 'workspace'))).toEqual(await snapshotTree(join(source, 'workspace')))
    expect(await snapshotTree(join(back, 'workspace'))).toHaveProperty(`${B_FILES}/empty/deeper`, 'dir')

    // Idempotent both ways: nothing copied, nothing merged, everything found identical.
    const again = await runMigration({ from: source, to: url, workspaceTo: workspaceUrl, s3 })
    expect(again).toMatchObject({
      status: 'done',
      sessions: { inserted: 0, extended: 0, identical: 3 },
      events: { inserted: 0 },
      folders: { copied: 0, identical: 2 },
      files: { copied: 0 },
    })
    const downAgain = await runMigration({ from: url, workspaceFrom: workspaceUrl, to: back, s3 })
    expect(downAgain).toMatchObject({
      status: 'done',
      sessions: { identical: 3 },
      folders: { copied: 0, identical: 2 },
    })
    expect(await snapshotTree(join(back, 'workspace'))).toEqual(await snapshotTree(join(source, 'workspace')))

    expect(await snapshotTree(source, { times: true })).toEqual(sourceTree)
    expect((await readFile(join(source, 'events.db'))).equals(sourceDb)).toBe(true)
    expect(await dumpPostgres(url)).toHaveLength(3)
    expect(B_NOFOLDER).toBeTruthy()
  }, 120_000)
})

describe('berth migrate between backends: refusals before anything is read or written', () => {
  const nowhere = 'postgres://berth:secret@127.0.0.1:1/berth'

  it('refuses an ii-agent folder, and flags that belong to the other direction, with MIGRATE_REFUSED', async () => {
    const base = await mkdtemp(join(tmpdir(), 'berth-backends-refuse-'))
    try {
      const iiAgent = join(base, 'ii-agent')
      await mkdir(join(iiAgent, 'workspaces'), { recursive: true })
      await writeFile(join(iiAgent, 'events.db'), '')
      const root = join(base, 'root')
      await buildBackendRoot(root, Buffer.from('small'))
      const attempts = [
        () => runMigration({ from: iiAgent, to: nowhere, workspaceTo: 's3://bucket-name/x' }),
        () => runMigration({ from: root, to: nowhere, workspaceFrom: 's3://bucket-name/x' }),
        () => runMigration({ from: nowhere, to: join(base, 'down'), workspaceTo: 's3://bucket-name/x' }),
      ]
      for (const attempt of attempts) {
        const error = await attempt().catch((e: unknown) => e)
        expect(isBerthError(error, 'MIGRATE_REFUSED'), String(error)).toBe(true)
        expect(String((error as Error).message)).not.toContain('secret')
      }
      await expect(stat(join(base, 'down'))).rejects.toThrow()
    } finally {
      await rm(base, { recursive: true, force: true })
    }
  })
})

async function indexedFiles(url: string, key: string): Promise<{ files: number; bytes: string }> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query(
      "SELECT count(*)::int AS files, sum(size)::text AS bytes FROM workspace_file WHERE workspace_key = $1 AND sha256 <> ''",
      [key],
    )
    return rows[0]
  } finally {
    await client.end()
  }
}

async function objectKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))
  return (page.Contents ?? []).map((object) => object.Key ?? '').sort()
}

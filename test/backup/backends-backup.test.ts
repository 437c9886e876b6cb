import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createBackendBackup } from '../../src/backup/backend-backup.js'
import { restoreBackup } from '../../src/backup/restore-backup.js'
import { verifyBackup } from '../../src/backup/verify-backup.js'
import { isBerthError } from '../../src/core/errors.js'
import { runMigration } from '../../src/migrate/migrate.js'
import { postgresUnavailableReason } from '../helpers/postgres.js'
import { freshBucket, radosgwUnavailableReason } from '../helpers/radosgw.js'
import { B_FILES, backendsForTests, buildBackendRoot, s3Credentials, s3Env } from '../migrate/fixtures/backends.js'
import { dumpDatabase, snapshotTree } from '../migrate/fixtures/data-trees.js'
import { startTransferCli } from '../migrate/fixtures/transfer-cli-process.js'

const unavailable = postgresUnavailableReason() ?? radosgwUnavailableReason()
if (unavailable) console.warn(unavailable)

describe.skipIf(unavailable !== null)('berth backup of a PostgreSQL + S3 deployment', () => {
  const env = backendsForTests('berth-backends-backup-')

  it('writes the data-root archive format: it verifies, and restores into a root holding the same data', async () => {
    const { base, pg, rgw } = env
    const source = join(base, 'source')
    await buildBackendRoot(source)
    const url = await pg.createDatabase()
    const bucket = await freshBucket(rgw, 'backup')
    const workspaceUrl = `s3://${bucket}/live`
    expect(
      (await runMigration({ from: source, to: url, workspaceTo: workspaceUrl, s3: s3Credentials(rgw) })).status,
    ).toBe('done')

    // As an operator runs it on a PostgreSQL + S3 deployment: the settings from the environment.
    const archive = join(base, 'out', 'deployment.tar.gz')
    const cli = startTransferCli(['backup', '--out', archive, '--json'], {
      cwd: base,
      env: {
        ...s3Env(rgw),
        DATABASE_URL: url,
        BERTH_WORKSPACE_URL: workspaceUrl,
        BERTH_DATA_DIR: join(base, 'unused-root'),
      },
    })
    expect(await cli.exited).toBe(0)
    const written = JSON.parse(cli.output().stdout) as { manifest: { root: string; database: { sessions: number } } }
    expect(written.manifest.database.sessions).toBe(3)
    expect(written.manifest.root).toContain(workspaceUrl)
    expect(written.manifest.root).not.toContain('throwaway')

    const verified = await verifyBackup(archive)
    expect(verified.problems).toEqual([])
    expect(verified.ok).toBe(true)

    const restored = join(base, 'restored')
    const result = await restoreBackup(archive, restored)
    expect(result).toMatchObject({ sessions: 3, events: 302 })
    // Restore points each session at its folder in the new root, as for any backup; the rest is exact.
    const withFolder = (dump: unknown[], root: string) =>
      JSON.parse(JSON.stringify(dump).replaceAll(JSON.stringify(root).slice(1, -1), '<root>'))
    expect(withFolder(await dumpDatabase(join(restored, 'events.db')), restored)).toEqual(
      withFolder(await dumpDatabase(join(source, 'events.db')), source),
    )
    expect(await snapshotTree(join(restored, 'workspace'))).toEqual(await snapshotTree(join(source, 'workspace')))
    expect(await snapshotTree(join(restored, 'workspace'))).toHaveProperty(`${B_FILES}/empty/deeper`, 'dir')
  }, 120_000)

  it('fails with STORAGE_UNAVAILABLE and writes no archive when the bucket refuses the credentials', async () => {
    const { base, pg, rgw } = env
    const url = await pg.createDatabase()
    const bucket = await freshBucket(rgw, 'backup-bad')
    const source = join(base, 'source2')
    await buildBackendRoot(source)
    await runMigration({ from: source, to: url, workspaceTo: `s3://${bucket}/live`, s3: s3Credentials(rgw) })
    // The bucket refuses the key: nothing can be copied, and no archive appears.
    const out = join(base, 'bad', 'b.tar.gz')
    const error = await createBackendBackup({
      databaseUrl: url,
      workspaceUrl: `s3://${bucket}/live`,
      s3: { ...s3Credentials(rgw), awsSecretAccessKey: 'wrong-secret' },
      out,
    }).catch((e: unknown) => e)
    expect(isBerthError(error, 'STORAGE_UNAVAILABLE'), String(error)).toBe(true)
    await expect(verifyBackup(out)).resolves.toMatchObject({ ok: false })
    // Nor is any staging copy left beside it.
    expect(await readdir(join(base, 'bad'))).toEqual([])
  }, 60_000)
})

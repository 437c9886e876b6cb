import { mkdir, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import { runMigration } from '../../src/migrate/migrate.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
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
import { dumpDatabase, snapshotTree } from './fixtures/data-trees.js'

const unavailable = postgresUnavailableReason() ?? radosgwUnavailableReason()
if (unavailable) console.warn(unavailable)

const LINKED = '8d4b3f60-ac5e-4f1d-8b90-4e5f6a7b8c93'
const LONG = '9e5c4a71-bd6f-4a2e-9ca1-5f6a7b8c9da4'

describe.skipIf(unavailable !== null)('berth migrate --move between backends', () => {
  const env = backendsForTests('berth-backends-move-')

  it('deletes only what was verified: a workspace holding a link, and so the database, stay; the way back empties PostgreSQL and S3', async () => {
    const { base, pg, rgw, raw } = env
    const source = join(base, 'source')
    await buildBackendRoot(source)
    // A fourth session whose workspace holds a symlink, which S3 cannot store.
    const store = await SqliteStore.open({ file: join(source, 'events.db') })
    await store.createSession({ id: LINKED, workspaceDir: join(source, 'workspace', LINKED), deviceId: 'device-a' })
    await store.append(LINKED, { type: 'user_message', content: { text: 'link me' } })
    await store.close()
    await mkdir(join(source, 'workspace', LINKED))
    await writeFile(join(source, 'workspace', LINKED, 'real.txt'), 'real\n')
    await symlink('real.txt', join(source, 'workspace', LINKED, 'alias.txt'))
    const expectedDb = await dumpDatabase(join(source, 'events.db'))
    const linkedTree = await snapshotTree(join(source, 'workspace', LINKED))
    const url = await pg.createDatabase()
    const bucket = await freshBucket(rgw, 'migrate-move')
    const s3 = s3Credentials(rgw)
    const workspaceUrl = `s3://${bucket}/m`

    const up = await runMigration({ from: source, to: url, workspaceTo: workspaceUrl, s3, move: true })
    expect(up.status).toBe('done')
    expect(up.files.skipped).toEqual([`workspace/${LINKED}/alias.txt`])
    expect(up.warnings.join('\n')).toMatch(/links or special files were not copied/)
    expect(up.moved).toMatchObject({ folders: 2, database: false })
    expect(up.moved?.kept.join('\n')).toMatch(/holds links/)
    expect(up.moved?.kept.join('\n')).toMatch(/events\.db: not every session is at the target/)
    // Verified and deleted: the two workspaces without links. Kept: the linked one, byte for byte, and the database.
    await expect(stat(join(source, 'workspace', B_FILES))).rejects.toThrow()
    await expect(stat(join(source, 'workspace', B_EMPTY))).rejects.toThrow()
    expect(await snapshotTree(join(source, 'workspace', LINKED))).toEqual(linkedTree)
    expect(await dumpDatabase(join(source, 'events.db'))).toEqual(expectedDb)
    expect(await dumpPostgres(url)).toEqual(expectedDb)

    const back = join(base, 'back')
    const down = await runMigration({ from: url, workspaceFrom: workspaceUrl, to: back, s3, move: true })
    expect(down.status).toBe('done')
    expect(down.moved).toMatchObject({ folders: 3, database: true, kept: [] })
    expect(await dumpDatabase(join(back, 'events.db'))).toEqual(expectedDb)
    expect(await dumpPostgres(url)).toEqual([])
    const left = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'm/' }))
    expect(left.Contents ?? []).toEqual([])
    expect(Object.keys(await snapshotTree(join(back, 'workspace', LINKED)))).toEqual(['', 'real.txt'])
    expect(B_NOFOLDER).toBeTruthy()
  }, 120_000)

  it('reports a workspace whose path S3 cannot hold (keys end at 1,024 bytes) and its session, copies the rest, and --move keeps both', async () => {
    const { base, pg, rgw } = env
    const source = join(base, 'source-long')
    await buildBackendRoot(source, Buffer.from('small'))
    const store = await SqliteStore.open({ file: join(source, 'events.db') })
    await store.createSession({ id: LONG, workspaceDir: join(source, 'workspace', LONG), deviceId: 'device-a' })
    await store.close()
    const deep = join(source, 'workspace', LONG, ...Array.from({ length: 5 }, (_, i) => `${i}`.repeat(240)))
    await mkdir(deep, { recursive: true })
    await writeFile(join(deep, 'leaf.txt'), 'deep\n')
    const url = await pg.createDatabase()
    const bucket = await freshBucket(rgw, 'migrate-long')
    const report = await runMigration({
      from: source,
      to: url,
      workspaceTo: `s3://${bucket}/l`,
      s3: s3Credentials(rgw),
      move: true,
    })
    expect(report.status).toBe('incomplete')
    expect(report.folders.failed.map((f) => f.name)).toEqual([`workspace/${LONG}`])
    expect(report.folders.failed[0]?.reason).toMatch(/1024 bytes/)
    expect(report.sessions.conflicts.map((c) => c.id)).toEqual([LONG])
    expect(report.sessions.inserted).toBe(3)
    expect(report.moved).toMatchObject({ folders: 2, database: false })
    expect(await stat(join(deep, 'leaf.txt'))).toBeTruthy()
    expect((await dumpPostgres(url)).length).toBe(3)
  }, 60_000)
})

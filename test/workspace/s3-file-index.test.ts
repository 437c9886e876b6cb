import path from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { createMigrator, type SqlDialect } from '../../src/store/migrations.js'
import { KyselyFileIndex, type WorkspaceFileTables } from '../../src/store/workspace-file-index.js'
import { type IndexedFile, MemoryFileIndex, type WorkspaceFileIndex } from '../../src/workspace/s3/file-index.js'
import { postgresUnavailableReason, sharedPostgres } from '../helpers/postgres.js'
import { tempDir } from '../helpers/temp-dir.js'

const file = (p: string, size: number, epoch = 0): IndexedFile => ({
  path: p,
  size,
  sha256: 'a'.repeat(64),
  etag: `"${p}"`,
  epoch,
  mtimeMs: 1_700_000_000_123,
})

/** The same cases for every index: memory, and the store's database on SQLite and PostgreSQL. */
function describeIndex(name: string, make: () => Promise<WorkspaceFileIndex>, skip: string | null = null) {
  if (skip) console.warn(skip)
  describe.skipIf(skip !== null)(`WorkspaceFileIndex on ${name}`, () => {
    it('records files per workspace, sums their sizes and forgets a folder with everything below it', async () => {
      const index = await make()
      await index.put('ws-1', file('a.txt', 10))
      await index.put('ws-1', file('site/index.html', 200))
      await index.put('ws-1', file('site/css/a.css', 3000))
      await index.put('ws-1', file('site-notes.txt', 40_000))
      await index.put('ws-2', file('a.txt', 7))
      expect(await index.usage('ws-1')).toBe(43_210)
      expect(await index.usage('ws-2')).toBe(7)
      expect(await index.usage('ws-none')).toBe(0)
      expect(await index.get('ws-1', 'site/index.html')).toEqual(file('site/index.html', 200))
      expect((await index.list('ws-1', 'site')).map((f) => f.path).sort()).toEqual([
        'site/css/a.css',
        'site/index.html',
      ])

      // `site` is a prefix of `site-notes.txt` as a string, not as a folder.
      await index.remove('ws-1', 'site')
      expect((await index.list('ws-1')).map((f) => f.path).sort()).toEqual(['a.txt', 'site-notes.txt'])
      await index.remove('ws-1', '')
      expect(await index.list('ws-1')).toEqual([])
      expect(await index.usage('ws-2')).toBe(7)
    })

    it('totals every workspace that holds a file, and their bytes', async () => {
      const index = await make()
      expect(await index.totals()).toEqual({ workspaces: 0, bytes: 0 })
      await index.put('ws-1', file('a.txt', 10))
      await index.put('ws-1', file('site/index.html', 200))
      await index.put('ws-2', file('a.txt', 7))
      await index.put('ws-3', file('b.txt', 1))
      await index.remove('ws-3', '')
      expect(await index.totals()).toEqual({ workspaces: 2, bytes: 217 })
    })

    it('replaces a file unless the index holds it from a newer epoch', async () => {
      const index = await make()
      expect(await index.put('ws', file('r.md', 1, 2))).toBe(true)
      expect(await index.put('ws', { ...file('r.md', 5, 1), etag: '"stale"' })).toBe(false)
      expect(await index.get('ws', 'r.md')).toMatchObject({ size: 1, epoch: 2 })
      expect(await index.put('ws', file('r.md', 9, 2))).toBe(true)
      expect(await index.put('ws', { ...file('r.md', 12, 5_000_000_000), etag: '"new"' })).toBe(true)
      expect(await index.get('ws', 'r.md')).toMatchObject({ size: 12, epoch: 5_000_000_000, etag: '"new"' })
    })

    it('matches folders by characters, emoji and all', async () => {
      const index = await make()
      await index.put('ws', file('🎉 party/a.txt', 1))
      await index.put('ws', file('🎉 party/b/c.txt', 2))
      await index.put('ws', file('🎉 partyx.txt', 4))
      expect((await index.list('ws', '🎉 party')).map((f) => f.path).sort()).toEqual([
        '🎉 party/a.txt',
        '🎉 party/b/c.txt',
      ])
      await index.remove('ws', '🎉 party/b')
      expect(await index.usage('ws')).toBe(5)
    })
  })
}

async function migrated<T>(db: Kysely<T>, dialect: SqlDialect): Promise<Kysely<T>> {
  const { error } = await createMigrator(db as unknown as Kysely<unknown>, dialect).migrateToLatest()
  if (error) throw error
  return db
}

const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const close of closers) await close()
})

describeIndex('memory', async () => new MemoryFileIndex())

describeIndex('SQLite (schema step 0007_workspace_files)', async () => {
  const db = new Kysely<WorkspaceFileTables>({
    dialect: new SqliteDialect({ database: new Database(path.join(await tempDir(), 'events.db')) }),
  })
  closers.push(() => db.destroy())
  return new KyselyFileIndex(await migrated(db, 'sqlite'))
})

describeIndex(
  'PostgreSQL (schema step 0007_workspace_files)',
  async () => {
    const postgres = await sharedPostgres(inject('postgresRunDir'))
    const db = new Kysely<WorkspaceFileTables>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ connectionString: await postgres.createDatabase(), max: 2 }),
      }),
    })
    closers.push(() => db.destroy())
    return new KyselyFileIndex(await migrated(db, 'postgres'))
  },
  postgresUnavailableReason(),
)

import { type Kysely, sql } from 'kysely'
import type { IndexedFile, WorkspaceFileIndex } from '../workspace/s3/file-index.js'
import type { WorkspaceKey } from '../workspace/workspace-storage.js'

/** The `workspace_file` table (schema step `0007_workspace_files` in src/store/migrations.ts). */
export interface WorkspaceFileTable {
  workspace_key: string
  path: string
  size: number | string
  sha256: string
  etag: string
  epoch: number | string
  mtime_ms: number | string
}

export interface WorkspaceFileTables {
  workspace_file: WorkspaceFileTable
}

/**
 * The file index in the store's database, on SQLite or PostgreSQL alike:
 * plain SQL both dialects run. A folder's files are matched by a prefix
 * compare (`substr`), not `LIKE` (whose `%` and `_` would need escaping) nor
 * a range (whose order depends on PostgreSQL's collation); the primary key
 * `(workspace_key, path)` keeps it to one workspace's rows. PostgreSQL
 * returns bigint columns as strings, hence the `Number()`s.
 */
export class KyselyFileIndex implements WorkspaceFileIndex {
  constructor(private readonly db: Kysely<WorkspaceFileTables>) {}

  async get(key: WorkspaceKey, path: string): Promise<IndexedFile | null> {
    const row = await this.db
      .selectFrom('workspace_file')
      .selectAll()
      .where('workspace_key', '=', key)
      .where('path', '=', path)
      .executeTakeFirst()
    return row ? fromRow(row) : null
  }

  async put(key: WorkspaceKey, file: IndexedFile): Promise<boolean> {
    const result = await this.db
      .insertInto('workspace_file')
      .values({
        workspace_key: key,
        path: file.path,
        size: file.size,
        sha256: file.sha256,
        etag: file.etag,
        epoch: file.epoch,
        mtime_ms: Math.round(file.mtimeMs),
      })
      .onConflict((conflict) =>
        conflict
          .columns(['workspace_key', 'path'])
          .doUpdateSet({
            size: (eb) => eb.ref('excluded.size'),
            sha256: (eb) => eb.ref('excluded.sha256'),
            etag: (eb) => eb.ref('excluded.etag'),
            epoch: (eb) => eb.ref('excluded.epoch'),
            mtime_ms: (eb) => eb.ref('excluded.mtime_ms'),
          })
          // A row written under a newer lease stays: the stale owner's write is refused.
          .where('workspace_file.epoch', '<=', (eb) => eb.ref('excluded.epoch')),
      )
      .executeTakeFirst()
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
  }

  async remove(key: WorkspaceKey, path: string): Promise<void> {
    let query = this.db.deleteFrom('workspace_file').where('workspace_key', '=', key)
    if (path !== '') query = query.where((eb) => eb.or([eb('path', '=', path), below(path)]))
    await query.execute()
  }

  async list(key: WorkspaceKey, path = ''): Promise<IndexedFile[]> {
    let query = this.db.selectFrom('workspace_file').selectAll().where('workspace_key', '=', key)
    if (path !== '') query = query.where((eb) => eb.or([eb('path', '=', path), below(path)]))
    return (await query.execute()).map(fromRow)
  }

  async usage(key: WorkspaceKey): Promise<number> {
    const row = await this.db
      .selectFrom('workspace_file')
      .select(sql<number | string>`COALESCE(SUM(size), 0)`.as('total'))
      .where('workspace_key', '=', key)
      .executeTakeFirst()
    return Number(row?.total ?? 0)
  }

  async totals(): Promise<{ workspaces: number; bytes: number }> {
    const row = await this.db
      .selectFrom('workspace_file')
      .select([
        sql<number | string>`COUNT(DISTINCT workspace_key)`.as('workspaces'),
        sql<number | string>`COALESCE(SUM(size), 0)`.as('bytes'),
      ])
      .executeTakeFirst()
    return { workspaces: Number(row?.workspaces ?? 0), bytes: Number(row?.bytes ?? 0) }
  }
}

function below(path: string) {
  const prefix = `${path}/`
  // Both dialects count characters (code points), not UTF-16 units.
  return sql<boolean>`substr(path, 1, ${[...prefix].length}) = ${prefix}`
}

function fromRow(row: WorkspaceFileTable): IndexedFile {
  return {
    path: row.path,
    size: Number(row.size),
    sha256: row.sha256,
    etag: row.etag,
    epoch: Number(row.epoch),
    mtimeMs: Number(row.mtime_ms),
  }
}

import { createHash } from 'node:crypto'
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { syncDirectory, syncFile } from '../../core/fsync.js'
import { processAlive } from '../../core/process-alive.js'
import { dbTimestamp } from '../../core/time.js'
import { migrateToLatest, type SchemaState } from '../migrations.js'
import { mapWriteError, openSqlite, type SqliteHandle } from './sqlite-database.js'

/** Where an upgrade is: the pre-migration backup, or a schema step; `fraction` from 0 to 1. */
export interface UpgradeProgress {
  step: string
  fraction: number
}

export interface UpgradeHooks {
  onProgress?: (progress: UpgradeProgress) => void
  /** The backup protecting this upgrade: written now, or an earlier one of the very same content (`reused`). */
  onBackup?: (backup: { file: string; reused: boolean; pending: string[] }) => void
  /** Test-only pause points (see `pauseHookFromEnv`). */
  point?: (name: string) => void
}

export interface UpgradeResult {
  applied: string[]
  backupFile: string | null
}

/** The name progress reports use for the pre-migration backup. */
export const BACKUP_STEP = 'backup'
/** The name progress reports use for copying the upgrade from the WAL into the database file. */
export const CHECKPOINT_STEP = 'checkpoint'
/** Pages the online backup copies between progress reports (8 MiB at 4 KiB pages). */
const BACKUP_PAGES_PER_STEP = 2048

/**
 * Bring `file` to the latest schema on the calling thread, with its own
 * connection: the backup first (or an earlier identical one reused), then
 * every pending step in one transaction, so a crash at any point leaves the
 * file as it was and the next start does it all again. Runs on the upgrade
 * worker thread (`upgrade-worker.ts`) so the server's thread stays free.
 */
export async function upgradeSqliteFile(
  file: string,
  options: { busyTimeoutMs?: number } & UpgradeHooks,
): Promise<UpgradeResult> {
  const sqlite = openSqlite(file, { busyTimeoutMs: options.busyTimeoutMs })
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) })
  try {
    const reachedSteps = new Set<string>()
    const result = await migrateToLatest(
      db,
      'sqlite',
      file,
      async (state) => {
        const backup = await backupBeforeUpgrade(sqlite, file, state, options)
        options.onBackup?.({ ...backup, pending: state.pending })
        return backup.file
      },
      (step, fraction) => {
        options.onProgress?.({ step, fraction })
        // A step is "running" once it has reported progress short of done.
        if (fraction > 0 && fraction < 1 && !reachedSteps.has(step)) {
          reachedSteps.add(step)
          options.point?.(`step:${step}`)
        }
      },
    )
    if (result.applied.length > 0) {
      // The rewrite sits in the WAL (as large as the tables). Copied back now, before anyone appends, or the
      // first commit after the upgrade would run SQLite's own checkpoint of all of it inline.
      options.onProgress?.({ step: CHECKPOINT_STEP, fraction: 0 })
      sqlite.pragma('wal_checkpoint(TRUNCATE)')
      options.onProgress?.({ step: CHECKPOINT_STEP, fraction: 1 })
    }
    return result
  } finally {
    await db.destroy()
  }
}

interface FingerprintFile {
  /** What the database held when the backup was taken (see `fingerprint`). */
  fingerprint: string
  /** The backup's file name, in the same folder. */
  backup: string
  bytes: number
}

const FINGERPRINT_SUFFIX = '.fingerprint'
const PARTIAL_MARK = '.partial-'

/**
 * The online backup taken before a schema change. Written under a temporary
 * name, fsynced, then renamed, so a backup file under its final name is
 * always complete. Beside it, a small fingerprint file records what the
 * database held; a start after a crash mid-upgrade finds the database as it
 * was (the upgrade is one transaction), sees the same fingerprint and reuses
 * that backup instead of writing another full copy. Backups are never
 * deleted; only temporary files of a process that is gone are.
 */
async function backupBeforeUpgrade(
  db: SqliteHandle,
  file: string,
  state: SchemaState,
  hooks: UpgradeHooks,
): Promise<{ file: string; reused: boolean }> {
  const dir = dirname(file)
  const prefix = `${basename(file)}.backup-`
  hooks.onProgress?.({ step: BACKUP_STEP, fraction: 0 })
  const print = fingerprint(db, state)
  const names = await readdir(dir)
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(FINGERPRINT_SUFFIX)) continue
    const recorded = await readFingerprint(join(dir, name))
    if (recorded?.fingerprint !== print) continue
    const size = await stat(join(dir, recorded.backup)).then(
      (info) => info.size,
      () => -1,
    )
    if (size === recorded.bytes) return { file: join(dir, recorded.backup), reused: true }
  }
  // A temporary copy left by a process killed while writing it is incomplete by construction.
  for (const name of names) {
    // The copy, its rollback journal, or a fingerprint being written.
    const pid = Number(/\.partial-(\d+)(?:-journal|-wal|-shm)?$/.exec(name)?.[1])
    if (!name.startsWith(prefix) || !Number.isInteger(pid)) continue
    if (pid !== process.pid && !processAlive(pid)) await rm(join(dir, name), { force: true })
  }

  const stamp = dbTimestamp()
    .replace(/[^0-9]/g, '')
    .slice(0, 14)
  let target = `${file}.backup-${stamp}-before-${state.pending[0]}`
  for (let n = 2; names.includes(basename(target)); n++)
    target = `${file}.backup-${stamp}-${n}-before-${state.pending[0]}`
  const partial = `${target}${PARTIAL_MARK}${process.pid}`
  try {
    await copyDatabase(db, partial, hooks)
  } catch (error) {
    // Our own incomplete copy (a full disk, most likely): nothing worth keeping.
    for (const suffix of ['', '-journal']) await rm(`${partial}${suffix}`, { force: true })
    throw mapWriteError(mapFsError(error, partial), partial)
  }
  // The fingerprint first: it only counts once a backup of its name and size exists, and from the
  // rename on, a retry finds both.
  const record: FingerprintFile = { fingerprint: print, backup: basename(target), bytes: (await stat(partial)).size }
  await writeDurably(`${target}${FINGERPRINT_SUFFIX}`, `${JSON.stringify(record)}\n`)
  await rename(partial, target)
  await syncDirectory(dir)
  hooks.point?.('backup-renamed')
  hooks.onProgress?.({ step: BACKUP_STEP, fraction: 1 })
  return { file: target, reused: false }
}

/** The online copy, switched to a rollback journal (one self-contained file), fsynced. */
async function copyDatabase(db: SqliteHandle, destination: string, hooks: UpgradeHooks): Promise<void> {
  let copying = false
  await db.backup(destination, {
    progress: ({ totalPages, remainingPages }) => {
      hooks.onProgress?.({ step: BACKUP_STEP, fraction: totalPages > 0 ? 1 - remainingPages / totalPages : 1 })
      if (!copying && remainingPages > 0) {
        copying = true
        hooks.point?.('backup-copying')
      }
      return BACKUP_PAGES_PER_STEP
    },
  })
  const copy = new BetterSqlite3(destination)
  try {
    copy.pragma('journal_mode = DELETE')
  } finally {
    copy.close()
  }
  await syncFile(destination)
  hooks.point?.('backup-copied')
}

/** ENOSPC from the file system reads as SQLite's SQLITE_FULL, so both become DISK_FULL. */
function mapFsError(error: unknown, file: string): unknown {
  if ((error as NodeJS.ErrnoException | null)?.code !== 'ENOSPC') return error
  return Object.assign(new Error(`no space left writing ${file}`), { code: 'SQLITE_FULL' })
}

/**
 * What the database holds, cheaply: its schema, the steps it has run, the
 * count and highest rowid of every table, and a hash of the (small) session
 * table. Any append, import or new session changes it. Reading it costs a
 * count over `event`'s primary-key index (about 0.1 s per million events).
 */
export function fingerprint(db: SqliteHandle, state: SchemaState): string {
  const hash = createHash('sha256')
  hash.update(JSON.stringify(state.applied))
  const tables = db
    .prepare("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
    .all() as { name: string; sql: string | null }[]
  for (const table of tables) hash.update(`${table.name}\0${table.sql ?? ''}\0`)
  for (const name of ['session', 'event']) {
    if (!tables.some((table) => table.name === name)) continue
    const row = db.prepare(`SELECT count(*) AS n, max(rowid) AS last FROM "${name}"`).get() as {
      n: number
      last: number | null
    }
    hash.update(`${name}:${row.n}:${row.last ?? ''}\0`)
  }
  if (tables.some((table) => table.name === 'session')) {
    for (const row of db.prepare('SELECT * FROM session ORDER BY rowid').raw().iterate() as Iterable<unknown[]>) {
      hash.update(JSON.stringify(row))
    }
  }
  return hash.digest('hex')
}

async function readFingerprint(path: string): Promise<FingerprintFile | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<FingerprintFile>
    if (typeof parsed.fingerprint !== 'string' || typeof parsed.backup !== 'string') return null
    if (typeof parsed.bytes !== 'number' || parsed.backup.includes('/')) return null
    return parsed as FingerprintFile
  } catch {
    return null
  }
}

async function writeDurably(path: string, text: string): Promise<void> {
  const temporary = `${path}${PARTIAL_MARK}${process.pid}`
  await writeFile(temporary, text)
  await syncFile(temporary)
  await rename(temporary, path)
  await syncDirectory(dirname(path))
}

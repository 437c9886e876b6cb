import { createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { syncDirectory, syncFile } from '../core/fsync.js'
import { dataPaths } from '../storage/data-root.js'
import { openStore } from '../store/open-store.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import { archiveFile } from '../transfer/archive-file.js'
import { asDiskFull } from '../transfer/copy-verified.js'
import { isTransientRootEntry } from '../transfer/root-entries.js'
import { TarWriter } from '../transfer/tar-writer.js'
import { type TreeEntry, walkTree } from '../transfer/tree-walk.js'
import { isInside } from '../workspace/containment.js'
import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  type BackupEntry,
  type BackupManifest,
  MANIFEST_NAME,
} from './backup-manifest.js'

export interface BackupResult {
  file: string
  bytes: number
  manifest: BackupManifest
}

/** Backups live here by default, and are never themselves backed up. */
export const BACKUPS_DIR = 'backups'

/**
 * Write a consistent snapshot of a whole data root into one archive (a
 * `.tar.gz`, or a plain `.tar` when `out` ends so), safely while a server
 * runs on it: the database through SQLite's backup API, then every other
 * file with its SHA-256, then a manifest listing all of them. The server's
 * lock files, SQLite's live sidecars and earlier backups are left out. The
 * archive appears under its name only when complete and fsynced.
 *
 * @example
 *   const { file, manifest } = await createBackup({ root: '/var/data' })
 *   // /var/data/backups/berth-backup-20250711-081112.tar.gz
 */
export async function createBackup(options: {
  root: string
  out?: string
  now?: Date
  onProgress?: (bytes: number) => void
  /** What the manifest names as the origin, when `root` is a staging copy (backend-backup.ts); default `root`. */
  origin?: string
  /** Warnings recorded in the manifest before the archive's own. */
  warnings?: string[]
}): Promise<BackupResult> {
  const paths = dataPaths(options.root)
  const now = options.now ?? new Date()
  const out = path.resolve(options.out ?? path.join(paths.root, BACKUPS_DIR, defaultName(now)))
  await mkdir(path.dirname(out), { recursive: true })
  const partial = `${out}.partial`
  const dbCopy = `${out}.events-db.partial`
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    createdAt: now.toISOString(),
    root: options.origin ?? paths.root,
    database: null,
    entries: [],
    warnings: [...(options.warnings ?? [])],
  }
  const compress = !/\.tar$/i.test(out)
  const file = createWriteStream(partial, { flags: 'wx' })
  const gzip = compress ? createGzip({ level: 6 }) : null
  const sink = gzip ?? file
  const written = gzip
    ? pipeline(gzip, file)
    : new Promise<void>((resolve, reject) => file.on('finish', resolve).on('error', reject))
  written.catch(() => undefined)
  try {
    const tar = new TarWriter(sink)
    if (await exists(paths.database)) {
      await SqliteStore.snapshotFile(paths.database, dbCopy)
      manifest.database = await describeDatabase(dbCopy)
      const entry = (await walkTree(dbCopy))[0] as TreeEntry
      const { sha256 } = await archiveFile(tar, 'events.db', dbCopy, entry)
      manifest.database.sha256 = sha256
      await rm(dbCopy, { force: true })
    }
    for (const name of (await readdir(paths.root)).sort()) {
      const full = path.join(paths.root, name)
      if (name === 'events.db' || name === BACKUPS_DIR || isTransientRootEntry(name)) continue
      if (isInside(full, out) || isInside(full, partial)) continue
      for (const entry of await walkTree(full)) {
        const rel = entry.path === '' ? name : `${name}/${entry.path}`
        if (entry.type === 'other') {
          manifest.warnings.push(`${rel} is a socket, FIFO or device and was left out`)
          continue
        }
        manifest.entries.push(await archiveEntry(tar, rel, path.join(full, entry.path), entry, manifest))
        options.onProgress?.(entry.size)
      }
    }
    await tar.addBuffer(MANIFEST_NAME, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`))
    await tar.finish()
    sink.end()
    await written
    await syncFile(partial)
    await rename(partial, out)
    await syncDirectory(path.dirname(out))
  } catch (error) {
    file.destroy()
    await rm(partial, { force: true })
    await rm(dbCopy, { force: true })
    throw asDiskFull(error, out)
  }
  return { file: out, bytes: (await stat(out)).size, manifest }
}

async function archiveEntry(
  tar: TarWriter,
  name: string,
  full: string,
  entry: TreeEntry,
  manifest: BackupManifest,
): Promise<BackupEntry> {
  const mtimeUs = Number(entry.mtimeNs / 1000n)
  const mtime = new Date(Math.floor(mtimeUs / 1000))
  if (entry.type === 'dir') {
    await tar.addDirectory(name, { mode: entry.mode, mtime })
    return { path: name, type: 'dir', mode: entry.mode, mtimeUs }
  }
  if (entry.type === 'symlink') {
    await tar.addSymlink(name, entry.target ?? '', { mtime })
    return { path: name, type: 'symlink', target: entry.target ?? '', mtimeUs }
  }
  const { sha256, changed } = await archiveFile(tar, name, full, entry)
  if (changed) manifest.warnings.push(`${name} changed while it was archived; the archive holds it as read`)
  return { path: name, type: 'file', size: entry.size, sha256, mode: entry.mode, mtimeUs }
}

async function describeDatabase(file: string): Promise<NonNullable<BackupManifest['database']>> {
  const store = await openStore({ kind: 'sqlite', file }, { readonly: true })
  try {
    const counts = await store.counts()
    const schema = (await store.schemaState()).applied
    return { path: 'events.db', size: (await stat(file)).size, sha256: '', ...counts, schema }
  } finally {
    await store.close()
  }
}

/** `berth-backup-<UTC time>.tar.gz`. */
export function defaultName(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `berth-backup-${stamp}.tar.gz`
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  )
}

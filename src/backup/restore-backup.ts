import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { BerthError, isBerthError } from '../core/errors.js'
import { syncDirectory } from '../core/fsync.js'
import { dataPaths } from '../storage/data-root.js'
import { inspectRootLock } from '../storage/root-lock.js'
import { openStore } from '../store/open-store.js'
import { applyModesAndTimes } from '../transfer/apply-modes.js'
import { isTransientRootEntry } from '../transfer/root-entries.js'
import type { BackupManifest } from './backup-manifest.js'
import { readBackup } from './read-backup.js'
import { databaseProblems } from './verify-backup.js'

export interface RestoreResult {
  root: string
  manifest: BackupManifest
  sessions: number
  events: number
  files: number
}

/** Things a fresh or freshly mounted root may hold that a restore can safely sit next to or replace. */
const HARMLESS = new Set(['lost+found', 'backups'])

/**
 * Rebuild a data root from a backup archive. Every checksum is verified
 * before anything is put in place: the archive is unpacked into a staging
 * folder inside the target (every path through the containment check),
 * compared with its manifest, the database checked by SQLite and brought to
 * the current schema with `workspace_dir` pointed at the new root; only then
 * are the entries renamed into place.
 *
 * The target must be missing or empty, or hold only what a fresh root does:
 * an empty database, an empty `workspace/`, `agent_logs.txt` (kept, after the
 * restored log), `lost+found`, `backups/`. Anything else is refused, never
 * overwritten; so is a target where a server is running.
 *
 * @example
 *   await restoreBackup('/mnt/usb/berth-backup-20250711-081112.tar.gz', '/var/data')
 */
export async function restoreBackup(file: string, to: string): Promise<RestoreResult> {
  const paths = dataPaths(to)
  await mkdir(paths.root, { recursive: true })
  await refuseUnsafeTarget(paths.root)
  for (const name of await readdir(paths.root)) {
    // Leftovers of a restore that was interrupted before anything moved into place.
    if (name.startsWith('.berth-restore-')) await rm(path.join(paths.root, name), { recursive: true, force: true })
  }
  const staging = path.join(paths.root, `.berth-restore-${randomBytes(6).toString('hex')}`)
  await mkdir(staging)
  try {
    let reading: Awaited<ReturnType<typeof readBackup>>
    try {
      reading = await readBackup(file, { into: staging })
    } catch (error) {
      if (!isBerthError(error, 'PATH_OUTSIDE_WORKSPACE')) throw error
      throw invalid(file, ['the archive tries to write outside the target through a symlink'])
    }
    const { manifest, problems } = reading
    const database = path.join(staging, 'events.db')
    if (problems.length === 0 && manifest?.database) problems.push(...(await databaseProblems(database)))
    if (manifest === null || problems.length > 0) throw invalid(file, problems)
    await applyModesAndTimes(staging, manifest.entries)
    const counts = manifest.database ? await adoptDatabase(database, paths.workspaces) : { sessions: 0, events: 0 }
    await moveIntoPlace(staging, paths.root)
    return {
      root: paths.root,
      manifest,
      ...counts,
      files: manifest.entries.filter((entry) => entry.type === 'file').length,
    }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

async function refuseUnsafeTarget(root: string): Promise<void> {
  const lock = inspectRootLock(root)
  if (lock.locked) {
    throw new BerthError(
      'TARGET_NOT_EMPTY',
      `A berth server is running on ${root}; stop it before restoring into it.`,
      {
        details: { target: root },
      },
    )
  }
  const blocking: string[] = []
  for (const name of await readdir(root)) {
    if (HARMLESS.has(name) || isTransientRootEntry(name) || name === 'agent_logs.txt') continue
    const full = path.join(root, name)
    if (name === 'workspace' && (await readdir(full).catch(() => ['?'])).length === 0) continue
    if (name === 'events.db' && (await isEmptyDatabase(full))) continue
    blocking.push(name)
  }
  if (blocking.length === 0) return
  throw new BerthError(
    'TARGET_NOT_EMPTY',
    `${root} already holds data (${blocking.slice(0, 5).join(', ')}${blocking.length > 5 ? ', …' : ''}). ` +
      'A restore never overwrites anything: restore into an empty folder, or move these aside first.',
    { details: { target: root, blocking } },
  )
}

async function isEmptyDatabase(file: string): Promise<boolean> {
  try {
    const store = await openStore({ kind: 'sqlite', file }, { readonly: true })
    try {
      const counts = await store.counts()
      return counts.sessions === 0 && counts.events === 0
    } finally {
      await store.close()
    }
  } catch {
    return false
  }
}

/** Bring the restored database to this berth's schema and point every session at its folder under the new root. */
async function adoptDatabase(file: string, workspaces: string): Promise<{ sessions: number; events: number }> {
  const store = await openStore({ kind: 'sqlite', file })
  try {
    let after: string | null = null
    for (;;) {
      const page = await store.scanSessions({ after, limit: 500 })
      for (const session of page) {
        const folder =
          session.workspaceDir
            .split(/[\\/]/)
            .filter((part) => part !== '')
            .at(-1) ?? session.id
        const wanted = path.join(workspaces, folder)
        if (session.workspaceDir !== wanted) await store.setWorkspaceDir(session.id, wanted)
      }
      if (page.length < 500) break
      after = page[page.length - 1]?.id ?? null
    }
    return await store.counts()
  } finally {
    await store.close()
  }
}

async function moveIntoPlace(staging: string, root: string): Promise<void> {
  const existingLog = await readFile(path.join(root, 'agent_logs.txt')).catch(() => null)
  if (existingLog !== null && existingLog.length > 0) {
    // The target's own log is newer than anything restored: keep it, after the restored one.
    const restored = await readFile(path.join(staging, 'agent_logs.txt')).catch(() => Buffer.alloc(0))
    const joiner = restored.length > 0 && restored[restored.length - 1] !== 0x0a ? '\n' : ''
    await writeFile(path.join(staging, 'agent_logs.txt'), Buffer.concat([restored, Buffer.from(joiner), existingLog]))
  }
  for (const name of await readdir(staging)) {
    const target = path.join(root, name)
    if (name === 'events.db') {
      // A stale WAL next to the new file would be replayed into it.
      for (const side of ['-wal', '-shm', '-journal']) await rm(`${target}${side}`, { force: true })
    }
    if (name === 'workspace') await rmdir(target).catch(() => undefined)
    await rename(path.join(staging, name), target)
  }
  await syncDirectory(root)
  await stat(root)
}

function invalid(file: string, problems: string[]): BerthError {
  return new BerthError(
    'ARCHIVE_INVALID',
    `${file} cannot be restored: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}. ` +
      'Nothing was changed in the target.',
    { details: { file, problems } },
  )
}

import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { openStore } from '../store/open-store.js'
import type { BackupManifest } from './backup-manifest.js'
import { readBackup } from './read-backup.js'

export interface BackupVerification {
  ok: boolean
  manifest: BackupManifest | null
  problems: string[]
}

/**
 * Check a backup archive without restoring it: every entry against the
 * manifest's size and SHA-256, nothing missing or extra, and the database
 * through SQLite's own integrity check (on a scratch copy).
 *
 * @example
 *   const { ok, problems } = await verifyBackup('/var/data/backups/berth-backup-20250711-081112.tar.gz')
 */
export async function verifyBackup(file: string): Promise<BackupVerification> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'berth-verify-'))
  try {
    const { manifest, problems } = await readBackup(file, { databaseInto: scratch })
    const database = path.join(scratch, 'events.db')
    if (problems.length === 0 && manifest?.database && (await exists(database))) {
      problems.push(...(await databaseProblems(database)))
    }
    return { ok: problems.length === 0, manifest, problems }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/** SQLite's integrity check of a database file, as problems in words (none when sound). */
export async function databaseProblems(file: string): Promise<string[]> {
  try {
    const store = await openStore({ kind: 'sqlite', file }, { readonly: true })
    try {
      const result = await store.checkIntegrity()
      return result.length === 1 && result[0] === 'ok' ? [] : result.map((line) => `events.db: ${line}`)
    } finally {
      await store.close()
    }
  } catch (error) {
    return [`events.db cannot be opened: ${error instanceof Error ? error.message : String(error)}`]
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  )
}

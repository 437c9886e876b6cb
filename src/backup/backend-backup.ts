import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { BerthError } from '../core/errors.js'
import type { S3Credentials } from '../migrate/backend-endpoints.js'
import { describeDatabase } from '../migrate/backend-endpoints.js'
import { runBackendMigration } from '../migrate/backend-migrate.js'
import { type BackupResult, createBackup } from './create-backup.js'

/**
 * A backup of a PostgreSQL deployment, in the very format of a data root's
 * (create-backup.ts), so `berth restore` rebuilds a data root from it and
 * `berth backup --verify` checks it: the sessions, events and share links
 * are copied into a SQLite database beside the archive, and the workspaces
 * (from S3, or a folder) into a `workspace/` folder, each file read back and
 * compared by SHA-256 (the move between backends of
 * src/migrate/backend-migrate.ts); that staging root is archived, then
 * removed. It needs free space for the data twice over while it runs.
 * Sessions are copied one after another, so a server running meanwhile may
 * add events to a later session that an earlier one does not reflect; for
 * point-in-time recovery use the database provider's own.
 *
 * @example
 *   await createBackendBackup({ databaseUrl, workspaceUrl: 's3://bucket/berth', s3, out: '/backups/b.tar.gz' })
 */
export async function createBackendBackup(options: {
  databaseUrl: string
  /** `s3://bucket/prefix`, or the folder holding the workspaces; none: sessions only. */
  workspaceUrl?: string
  s3?: S3Credentials
  /** BERTH_DATABASE_CA_FILE. */
  databaseCaFile?: string | null
  out: string
  now?: Date
}): Promise<BackupResult> {
  const out = path.resolve(options.out)
  await mkdir(path.dirname(out), { recursive: true })
  const staging = await mkdtemp(`${out}.staging-`)
  try {
    const root = path.join(staging, 'root')
    const report = await runBackendMigration({
      from: options.databaseUrl,
      workspaceFrom: options.workspaceUrl,
      to: root,
      s3: options.s3,
      databaseCaFile: options.databaseCaFile,
    })
    const left = [
      ...report.sessions.conflicts.map((c) => `session ${c.id}: ${c.reasons.join('; ')}`),
      ...report.folders.failed.map((f) => `${f.name}: ${f.reason}`),
      ...report.folders.different.map((f) => `${f.name}: ${f.reasons.join('; ')}`),
    ]
    if (report.status !== 'done' || left.length > 0) {
      throw new BerthError(
        'BACKUP_INCOMPLETE',
        `The backup was not written: ${left.length} item(s) could not be copied (${left.slice(0, 3).join(' | ')}). ` +
          'Run it again; if it persists, look at those sessions.',
        { details: { left } },
      )
    }
    const origin = [describeDatabase(options.databaseUrl), options.workspaceUrl].filter(Boolean).join(' + ')
    const warnings = [...report.warnings]
    if (!options.workspaceUrl)
      warnings.push('No workspace storage was given: the archive holds sessions and events only.')
    return await createBackup({ root, out, now: options.now, origin, warnings })
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

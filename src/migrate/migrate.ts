import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, realpath, rm, rmdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { BerthError } from '../core/errors.js'
import { FileSystemFlusher } from '../core/fsync.js'
import { ensureWritableRoot } from '../storage/checks.js'
import { dataPaths } from '../storage/data-root.js'
import { inspectRootLock } from '../storage/root-lock.js'
import { openStore } from '../store/open-store.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import type { Store } from '../store/store.js'
import { asDiskFull } from '../transfer/copy-verified.js'
import { isInside } from '../workspace/containment.js'
import { appendLog } from './append-logs.js'
import type { S3Credentials } from './backend-endpoints.js'
import { isBackendMigration, runBackendMigration } from './backend-migrate.js'
import { copyUnit, type StepHook } from './copy-unit.js'
import { copyUnitsInParallel, tallyUnits } from './copy-units.js'
import { Journal } from './journal.js'
import { buildPlan, fileSize, type MigrationPlan, type SessionPlan, type UnitPlan } from './migrate-plan.js'
import { emptyReport, fillDryRun, type MigrationReport, type MigrationSummary, summarize } from './migration-report.js'
import { moveSources } from './move-sources.js'
import { openSourceCopy, readTransfer } from './source-database.js'
import { inspectSource, type SourceLayout } from './source-layout.js'
import { checkSpace, notEnoughSpace } from './space-check.js'

export interface MigrateOptions {
  /** The source data folder (a berth root or an ii-agent data directory). */
  from: string
  /** The target data root; created when missing. */
  to: string
  /** With `from` = postgres://…: where its workspaces are (s3://bucket/prefix or a folder); see backend-migrate.ts. */
  workspaceFrom?: string
  /** With `to` = postgres://…: where the workspaces go (s3://bucket/prefix or a folder). */
  workspaceTo?: string
  /** AWS_* settings for a bucket named by `workspaceFrom` / `workspaceTo`. */
  s3?: S3Credentials
  /** BERTH_DATABASE_CA_FILE, for a postgres:// source or target. */
  databaseCaFile?: string | null
  /** Stop after the plan: nothing is written to the target. */
  dryRun?: boolean
  /** Delete from the source what was verified at the target. */
  move?: boolean
  /** Called once with the plan, before anything is copied. */
  onPlan?: (summary: MigrationSummary) => void
  /** Bytes copied so far of the bytes to copy. */
  onProgress?: (done: number, total: number) => void
  /** Named points of the run; tests stop the process there to prove it resumes. */
  onStep?: StepHook
}

/**
 * Move a berth or ii-agent data folder into a berth data root, safely enough
 * to trust with the only copy: plan first; the database through SQLite's
 * backup API, merged by primary key (conflicts reported, never overwritten)
 * with `workspace_dir` rewritten to the target; every folder staged, every
 * file verified by size and SHA-256, renamed into place; logs appended once;
 * a journal so a run killed at any instant resumes, and a rerun changes
 * nothing. Sources stay untouched unless `move`, which deletes only what was
 * verified. Never prompts.
 *
 * @example
 *   const report = await runMigration({ from: '/srv/ii-agent', to: '/var/data' })
 *   if (report.status !== 'done') console.error(report.sessions.conflicts)
 */
export async function runMigration(options: MigrateOptions): Promise<MigrationReport> {
  // A postgres:// source or target: the move between backends, with the same guarantees.
  if (isBackendMigration(options)) return runBackendMigration(options)
  const onStep: StepHook = options.onStep ?? (() => undefined)
  const targetRoot = path.resolve(options.to)
  const layout = await inspectSource(options.from, { exclude: targetRoot })
  await refuseOverlap(layout, targetRoot)
  const warnings: string[] = []
  const targetLock = (await exists(targetRoot)) ? inspectRootLock(targetRoot) : { locked: false, holder: null }
  if (targetLock.locked) {
    const who = targetLock.holder ? ` (pid ${targetLock.holder.pid} on ${targetLock.holder.hostname})` : ''
    throw new BerthError(
      'MIGRATE_REFUSED',
      `A berth server${who} is running on the target ${targetRoot}. Stop it first: a migration must not write ` +
        'under a running server.',
      { details: { target: targetRoot, holder: targetLock.holder } },
    )
  }
  const sourceRunning = inspectRootLock(layout.root).locked
  if (sourceRunning && options.move) {
    throw new BerthError(
      'MIGRATE_REFUSED',
      `A berth server is running on the source ${layout.root}; --move would delete data it is still writing. ` +
        'Stop it, or migrate without --move (a copy is safe while it runs).',
      { details: { source: layout.root } },
    )
  }
  if (sourceRunning) {
    warnings.push(
      `A berth server is running on the source ${layout.root}. The database is copied consistently through ` +
        "SQLite's backup API, but what it writes after that point is not migrated: run the migration again " +
        'after stopping it to bring the rest over.',
    )
  }
  if (!options.dryRun) await ensureWritableRoot(targetRoot)
  const paths = dataPaths(targetRoot)
  const workDir = options.dryRun
    ? await mkdtemp(path.join(tmpdir(), 'berth-migrate-'))
    : path.join(targetRoot, '.berth-migrate', createHash('sha256').update(layout.root).digest('hex').slice(0, 16))
  await mkdir(workDir, { recursive: true })
  const journal = options.dryRun ? Journal.inMemory() : await Journal.open(path.join(workDir, 'journal.jsonl'))
  if (journal.entries.length === 0) {
    await journal.append({ t: 'start', source: layout.root, target: targetRoot }, { sync: true })
  }
  const stores: { source: Store | null; target: Store | null } = { source: null, target: null }
  const execute = async (): Promise<MigrationReport> => {
    let kind: 'berth' | 'ii-agent' = (await exists(path.join(layout.root, '.berth-server.lock'))) ? 'berth' : 'ii-agent'
    if (layout.database !== null) {
      const opened = await openSourceCopy(layout.database, workDir, onStep)
      stores.source = opened.store
      kind = opened.kind
    }
    stores.target = await openTarget(paths.database, workDir, options.dryRun ?? false, warnings)
    const { source, target } = stores
    const plan = await buildPlan({ layout, kind, target: paths, source, targetStore: target, journal })
    const summary = summarize(layout, kind, targetRoot, sourceRunning, plan)
    summary.space = await checkSpace(targetRoot, plan, await fileSize(layout.database))
    options.onPlan?.(summary)
    if (summary.space.freeBytes !== null && summary.space.freeBytes < summary.space.neededBytes) {
      throw notEnoughSpace(targetRoot, summary.space.freeBytes, summary.space.neededBytes)
    }
    const report = emptyReport(summary, warnings)
    if (options.dryRun) {
      fillDryRun(report, plan)
      return report
    }
    await copyUnits(plan, report, workDir, journal, onStep, options.onProgress)
    await mkdir(paths.workspaces, { recursive: true })
    await mergeSessions(plan, report, source, target as Store, journal, onStep)
    for (const log of layout.logs) report.logs.push(await appendLog(log, paths.logs, journal, onStep))
    if (plan.orphanEvents > 0) {
      warnings.push(
        `${plan.orphanEvents} events in the source database belong to no session and were not copied ` +
          '(the source keeps them).',
      )
    }
    if (options.move) {
      report.moved = await moveSources({ layout, plan, report, journal, targetLog: paths.logs })
    }
    const incomplete =
      report.sessions.conflicts.length > 0 || report.folders.different.length > 0 || report.folders.failed.length > 0
    report.status = incomplete ? 'incomplete' : 'done'
    await onStep('cleanup', workDir)
    await journal.append({ t: 'done' }, { sync: true })
    return report
  }
  let report: MigrationReport
  try {
    report = await execute()
  } catch (error) {
    // Closing may fail too when the disk is full; the first error is the one to report.
    await Promise.allSettled([stores.source?.close(), stores.target?.close(), journal.close()])
    if (options.dryRun) await rm(workDir, { recursive: true, force: true })
    throw asDiskFull(error, targetRoot)
  }
  try {
    await stores.source?.close()
    await stores.target?.close()
  } catch (error) {
    throw asDiskFull(error, targetRoot)
  } finally {
    await journal.close()
  }
  await rm(workDir, { recursive: true, force: true })
  // The parent folder goes too once no other source's migration is pending in it.
  if (!options.dryRun) await rmdir(path.dirname(workDir)).catch(() => undefined)
  return report
}

async function openTarget(file: string, workDir: string, dryRun: boolean, warnings: string[]): Promise<Store | null> {
  if (!dryRun) {
    return openStore(
      { kind: 'sqlite', file },
      {
        onMigrationBackup: (backup) =>
          warnings.push(`The target database was backed up to ${backup} before its schema was updated.`),
      },
    )
  }
  if (!(await exists(file))) return null
  // A dry run plans against a scratch copy, so even a schema update never touches the target.
  const copy = path.join(workDir, 'target.db')
  await SqliteStore.snapshotFile(file, copy)
  return openStore({ kind: 'sqlite', file: copy })
}

async function copyUnits(
  plan: MigrationPlan,
  report: MigrationReport,
  workDir: string,
  journal: Journal,
  onStep: StepHook,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  const total = report.summary.files.bytesToCopy
  let done = 0
  const stagingDir = path.join(workDir, 'staging')
  const flusher = new FileSystemFlusher(stagingDir)
  const ctx = {
    stagingDir,
    journal,
    onStep,
    onBytes: (bytes: number) => {
      done += bytes
      onProgress?.(done, total)
    },
    flushFileSystem: () => flusher.flush(),
  }
  tallyUnits(plan.units, report)
  // A source that keeps changing costs only its own folder; anything else (disk full, I/O) stops the run.
  await copyUnitsInParallel(plan.units, report, ['SOURCE_CHANGED'], async (unit) => {
    const result = await copyUnit(unit, ctx, unit.entries)
    unit.entries = result.entries
    return result
  })
  if (report.files.skipped.length > 0) {
    report.warnings.push(
      `${report.files.skipped.length} sockets, FIFOs or device files were not copied: ${report.files.skipped.slice(0, 5).join(', ')}`,
    )
  }
  await onStep('files-done', '')
}

async function mergeSessions(
  plan: MigrationPlan,
  report: MigrationReport,
  source: Store | null,
  target: Store,
  journal: Journal,
  onStep: StepHook,
): Promise<void> {
  if (source === null) return
  const units = new Map(plan.units.map((unit) => [unit.key, unit]))
  for (const session of plan.sessions) {
    const unit = session.unitKey === null ? undefined : units.get(session.unitKey)
    const blocked = blockedBy(session, unit)
    if (blocked !== null) {
      report.sessions.conflicts.push({ id: session.id, reasons: blocked })
      continue
    }
    const record = await source.getSession(session.id)
    if (record === null) continue
    const transfer = await readTransfer(source, { ...record, workspaceDir: session.workspaceDir })
    const result = await target.mergeSession(transfer)
    if (result.outcome === 'conflict') {
      report.sessions.conflicts.push({ id: session.id, reasons: result.conflicts })
      continue
    }
    report.sessions[result.outcome]++
    report.events.inserted += result.eventsInserted
    await journal.append({ t: 'session', id: session.id, outcome: result.outcome })
    await onStep('session-merged', session.id)
  }
}

function blockedBy(session: SessionPlan, unit: UnitPlan | undefined): string[] | null {
  if (session.merge.outcome === 'conflict') return session.merge.conflicts
  if (unit === undefined || unit.state === 'copy' || unit.state === 'identical' || unit.state === 'moving') return null
  return [`its folder ${unit.key} was not migrated: ${unit.reasons.join('; ') || 'it differs at the target'}`]
}

async function refuseOverlap(layout: SourceLayout, target: string): Promise<void> {
  const real = await realOrSelf(target)
  const clash = real === layout.root || layout.workspaceDirs.some((dir) => isInside(dir, real))
  if (!clash) return
  throw new BerthError(
    'MIGRATE_REFUSED',
    `The target ${target} is the source ${layout.root} itself or lies inside its workspace folders. ` +
      'Choose a target outside the source.',
    { details: { source: layout.root, target } },
  )
}

async function realOrSelf(p: string): Promise<string> {
  return realpath(p).catch(() => path.resolve(p))
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  )
}

export type { MigrationReport, MigrationSummary }

import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, rmdir, stat, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { BerthError } from '../core/errors.js'
import { ensureWritableRoot } from '../storage/checks.js'
import { dataPaths } from '../storage/data-root.js'
import { inspectRootLock } from '../storage/root-lock.js'
import { openStore } from '../store/open-store.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import type { Store } from '../store/store.js'
import type { SessionTransfer } from '../store/types.js'
import { storedFolderName, type WorkspaceEntry } from '../workspace/workspace-storage.js'
import { changedEntry, compareWorkspaces, copyWorkspace, listWorkspace } from './backend-copy.js'
import {
  describeDatabase,
  isPostgresUrl,
  isS3Url,
  localWorkspaces,
  openPostgres,
  s3Workspaces,
  type WorkspaceSide,
} from './backend-endpoints.js'
import type { StepHook } from './copy-unit.js'
import { copyUnitsInParallel, tallyUnits } from './copy-units.js'
import { Journal } from './journal.js'
import type { MigrateOptions } from './migrate.js'
import type { MigrationPlan, SessionPlan, UnitPlan } from './migrate-plan.js'
import { emptyReport, fillDryRun, type MigrationReport, summarize } from './migration-report.js'
import type { MoveResult } from './move-sources.js'
import { allSessions, openSourceCopy, readTransfer } from './source-database.js'
import { inspectSource } from './source-layout.js'
import { checkSpace, notEnoughSpace } from './space-check.js'

/** One side of the move: a database and (maybe) workspaces. */
interface Side {
  label: string
  store: Store
  workspaces: WorkspaceSide | null
  /** A data root on this machine, when the side is one. */
  root: string | null
}

/** A workspace to copy, as planned. */
interface BackendUnit extends UnitPlan {
  workspaceKey: string
  listing: WorkspaceEntry[]
}

/** True when `from` or `to` names a PostgreSQL database: the move is between backends. */
export function isBackendMigration(options: { from?: string; to?: string }): boolean {
  return isPostgresUrl(options.from) || isPostgresUrl(options.to)
}

/**
 * Move a deployment between backends: a SQLite data root into PostgreSQL
 * (and its workspaces into S3 or a folder), or back from PostgreSQL and S3
 * into a data root, with the guarantees of `runMigration` (migrate.ts): a
 * plan first; sessions, events (ids, seq, timestamps, payload text byte for
 * byte) and share links merged by primary key, never overwriting, then read
 * back and compared; every file written through the target's storage, read
 * back and compared by size and SHA-256; a journal, so a run killed at any
 * point resumes without copying verified files again; a rerun changes
 * nothing; the source untouched unless `move`. Stored `workspace_dir`
 * values are kept as they are (workspaces are found by key, see
 * `workspaceKey`), so a move there and back is exact.
 *
 * The journal lives on this machine: in the target root when the target is
 * one, else in the source root's `.berth-migrate/` (a folder backups and
 * migrations never copy), else in the temporary folder.
 *
 * @example
 *   await runBackendMigration({ from: '/var/data', to: 'postgres://u:p@db/berth', workspaceTo: 's3://bucket/berth' })
 */
export async function runBackendMigration(options: MigrateOptions): Promise<MigrationReport> {
  const onStep: StepHook = options.onStep ?? (() => undefined)
  const warnings: string[] = []
  const fromRoot = isPostgresUrl(options.from) ? null : await inspectRoot(options.from)
  const toRoot = isPostgresUrl(options.to) ? null : path.resolve(options.to)
  refuseBadCombination(options, fromRoot, toRoot)
  const sourceId = fromRoot ?? `${describeDatabase(options.from)} ${options.workspaceFrom ?? ''}`
  const targetId = toRoot ?? `${describeDatabase(options.to)} ${options.workspaceTo ?? ''}`
  if (toRoot !== null && (await exists(toRoot)) && inspectRootLock(toRoot).locked) {
    throw new BerthError(
      'MIGRATE_REFUSED',
      `A berth server is running on the target ${toRoot}. Stop it first: a migration must not write under a running server.`,
      { details: { target: toRoot } },
    )
  }
  const sourceRunning = fromRoot !== null && inspectRootLock(fromRoot).locked
  if (sourceRunning && options.move) {
    throw new BerthError(
      'MIGRATE_REFUSED',
      `A berth server is running on the source ${fromRoot}; --move would delete data it is still writing. Stop it first.`,
      { details: { source: fromRoot } },
    )
  }
  if (toRoot !== null && !options.dryRun) await ensureWritableRoot(toRoot)
  const workBase = toRoot ?? fromRoot
  const hashOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16)
  // Named after the pair, so a second run finds the journal of the first (PostgreSQL to PostgreSQL: in the temporary folder).
  const workDir = options.dryRun
    ? await mkdtemp(path.join(tmpdir(), 'berth-migrate-'))
    : workBase === null
      ? path.join(tmpdir(), `berth-migrate-${hashOf(`${sourceId} to ${targetId}`)}`)
      : path.join(workBase, '.berth-migrate', hashOf(toRoot !== null ? sourceId : `to ${targetId}`))
  await mkdir(workDir, { recursive: true })
  const journal = options.dryRun ? Journal.inMemory() : await Journal.open(path.join(workDir, 'journal.jsonl'))
  if (journal.entries.length === 0) {
    await journal.append({ t: 'start', source: sourceId, target: targetId }, { sync: true })
  }
  const sides: { source: Side | null; target: Side | null } = { source: null, target: null }
  const execute = async (): Promise<MigrationReport> => {
    sides.source = await openSource(options, fromRoot, workDir, onStep)
    sides.target = await openTarget(options, toRoot, workDir, warnings)
    const { source, target } = sides
    if (source.workspaces !== null && target.workspaces === null) {
      warnings.push(
        `The workspaces in ${source.workspaces.label} were not copied: pass --workspace-to s3://bucket/prefix ` +
          '(or a folder) to bring them along.',
      )
    }
    if (source.workspaces === null && fromRoot === null) {
      warnings.push(
        'No --workspace-from was given: only sessions and events were copied; the workspaces stay where they are.',
      )
    }
    if (fromRoot !== null) {
      const left = await leftInRoot(fromRoot)
      if (left.length > 0) warnings.push(`Not moved (only sessions and workspaces are): ${left.join(', ')}.`)
    }
    const plan = await planMove(source, target, journal)
    const summary = summarize(
      {
        root: source.label,
        database: source.root === null ? null : path.join(source.root, 'events.db'),
        workspaceDirs: source.workspaces ? [source.workspaces.label] : [],
        logs: [],
        otherEntries: [],
      },
      source.root === null ? 'postgres' : 'berth',
      target.workspaces && target.root === null ? `${target.label} + ${target.workspaces.label}` : target.label,
      sourceRunning,
      plan,
    )
    if (toRoot !== null) summary.space = await checkSpace(toRoot, plan, 0)
    options.onPlan?.(summary)
    if (summary.space.freeBytes !== null && summary.space.freeBytes < summary.space.neededBytes) {
      throw notEnoughSpace(target.label, summary.space.freeBytes, summary.space.neededBytes)
    }
    const report = emptyReport(summary, warnings)
    if (sourceRunning) {
      warnings.push(
        `A berth server is running on the source ${fromRoot}: what it writes after the database snapshot is not ` +
          'migrated. Run the migration again after stopping it.',
      )
    }
    if (options.dryRun) {
      fillDryRun(report, plan)
      return report
    }
    await copyUnits(plan, report, source, target, journal, onStep, options.onProgress)
    await mergeAndVerify(plan, report, source.store, target.store, journal, onStep)
    if (options.move) report.moved = await moveVerified(plan, report, source, journal)
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
    // A stopped run keeps its journal to resume from; a dry run has nothing to keep.
    if (options.dryRun) await rm(workDir, { recursive: true, force: true })
    throw error
  } finally {
    await Promise.allSettled([
      sides.source?.store.close(),
      sides.target?.store.close(),
      sides.source?.workspaces?.close(),
      sides.target?.workspaces?.close(),
      journal.close(),
    ])
  }
  await rm(workDir, { recursive: true, force: true })
  if (!options.dryRun && workBase !== null) await rmdir(path.dirname(workDir)).catch(() => undefined)
  return report
}

async function inspectRoot(dir: string): Promise<string> {
  const layout = await inspectSource(dir)
  if (layout.workspaceDirs.some((folder) => path.basename(folder) === 'workspaces') || layout.database === null) {
    throw new BerthError(
      'MIGRATE_REFUSED',
      `${layout.root} is not a berth data root (an ii-agent folder, or one without events.db). Migrate it into a ` +
        'data root first (berth migrate --from it --to a folder), then from that root into PostgreSQL.',
      { details: { source: layout.root } },
    )
  }
  return layout.root
}

/** What a source root holds besides its database and workspaces, which a PostgreSQL deployment has no place for. */
async function leftInRoot(root: string): Promise<string[]> {
  const layout = await inspectSource(root)
  return [...layout.logs, ...layout.otherEntries.map((name) => path.join(root, name))]
}

function refuseBadCombination(options: MigrateOptions, fromRoot: string | null, toRoot: string | null): void {
  const refuse = (message: string) => {
    throw new BerthError('MIGRATE_REFUSED', message, {
      details: { from: fromRoot ?? 'postgres', to: toRoot ?? 'postgres' },
    })
  }
  if (fromRoot !== null && options.workspaceFrom) {
    refuse('--workspace-from goes with a PostgreSQL source; a data root brings its own workspace/ folder.')
  }
  if (toRoot !== null && options.workspaceTo) {
    refuse('--workspace-to goes with a PostgreSQL target; a data root keeps workspaces in its own workspace/ folder.')
  }
  if (isS3Url(options.workspaceTo) && !isPostgresUrl(options.to)) {
    refuse('Workspaces in S3 are indexed in the PostgreSQL database: --workspace-to s3://… needs --to postgres://….')
  }
  if (fromRoot !== null && toRoot !== null)
    refuse('Between two data roots, use berth migrate without a postgres:// URL.')
  if (fromRoot === null && toRoot === null && options.from.trim() === options.to.trim()) {
    refuse('The source and the target are the same database.')
  }
}

async function openSource(
  options: MigrateOptions,
  root: string | null,
  workDir: string,
  onStep: StepHook,
): Promise<Side> {
  if (root !== null) {
    const file = path.join(root, 'events.db')
    if (!(await exists(file))) {
      throw new BerthError('MIGRATE_SOURCE_INVALID', `${root} has no events.db: it is not a berth data root.`, {
        details: { source: root },
      })
    }
    // A consistent copy through SQLite's backup API: the source file is never opened for writing.
    const { store } = await openSourceCopy(file, workDir, onStep)
    const folder = path.join(root, 'workspace')
    return { label: root, store, workspaces: (await exists(folder)) ? localWorkspaces(folder) : null, root }
  }
  // Inspect only: no schema step runs on a source.
  const store = await openPostgres(options.from, { caFile: options.databaseCaFile, readonly: true })
  return {
    label: describeDatabase(options.from),
    store,
    workspaces: workspaceSide(options.workspaceFrom, store, options, workDir),
    root: null,
  }
}

async function openTarget(
  options: MigrateOptions,
  root: string | null,
  workDir: string,
  warnings: string[],
): Promise<Side> {
  if (root !== null) {
    const paths = dataPaths(root)
    const dryRun = options.dryRun ?? false
    if (!dryRun) await mkdir(paths.workspaces, { recursive: true })
    const file = dryRun ? path.join(workDir, 'target.db') : paths.database
    // A dry run plans against a scratch copy, so even a schema update never touches the target.
    if (dryRun && (await exists(paths.database))) await SqliteStore.snapshotFile(paths.database, file)
    const store = await openStore(
      { kind: 'sqlite', file },
      {
        onMigrationBackup: (backup) =>
          warnings.push(`The target database was backed up to ${backup} before its schema was updated.`),
      },
    )
    return { label: root, store, workspaces: localWorkspaces(paths.workspaces), root }
  }
  const store = await openPostgres(options.to, { caFile: options.databaseCaFile })
  return {
    label: describeDatabase(options.to),
    store,
    workspaces: workspaceSide(options.workspaceTo, store, options, workDir),
    root: null,
  }
}

/** The workspaces beside a PostgreSQL store: in a bucket indexed in that very database, or in a folder. */
function workspaceSide(
  where: string | undefined,
  store: Store,
  options: MigrateOptions,
  workDir: string,
): WorkspaceSide | null {
  if (!where) return null
  if (isS3Url(where)) return s3Workspaces(where, store.workspaceFiles(), options.s3 ?? {}, path.join(workDir, 'spool'))
  return localWorkspaces(path.resolve(where))
}

/** What the move will do, touching nothing. */
async function planMove(source: Side, target: Side, journal: Journal): Promise<MigrationPlan> {
  const moving = new Set(journal.all('move-begin').map((entry) => entry.unit))
  for (const entry of journal.all('move-done')) moving.delete(entry.unit)
  const finished = new Set(journal.all('unit').map((entry) => entry.unit))
  const started = new Set(journal.all('unit-begin').map((entry) => entry.unit))
  const units: BackendUnit[] = []
  if (source.workspaces !== null && target.workspaces !== null) {
    const from = source.workspaces
    const to = target.workspaces
    for (const key of await from.keys()) {
      const unitKey = `workspace/${key}`
      const base = { key: unitKey, source: `${from.label}/${key}`, target: `${to.label}/${key}`, workspaceKey: key }
      if (moving.has(unitKey)) {
        units.push({ ...base, state: 'moving', reasons: [], files: 0, bytes: 0, entries: [], listing: [] })
        continue
      }
      const listing = await listWorkspace(from.storage, key)
      const files = listing.filter((entry) => entry.type === 'file')
      const sized = { files: files.length, bytes: files.reduce((sum, file) => sum + file.size, 0) }
      const unit: BackendUnit = { ...base, state: 'copy', reasons: [], entries: [], listing, ...sized }
      const there = await to.storage.exists(key)
      // Verified by this run before it was stopped: not read again.
      if (finished.has(unitKey) && there) {
        units.push({ ...unit, state: 'identical' })
        continue
      }
      // A workspace this journal began is ours to complete; any other one at the target is compared.
      if (started.has(unitKey) || !there) {
        units.push(unit)
        continue
      }
      const comparison = await compareWorkspaces(from.storage, to.storage, key, listing)
      unit.state = comparison.identical ? 'identical' : 'different'
      unit.reasons = comparison.differences
      units.push(unit)
    }
  }
  const byKey = new Map(units.map((unit) => [unit.workspaceKey, unit]))
  const sessions: SessionPlan[] = []
  for await (const session of allSessions(source.store)) {
    const transfer = await readTransfer(source.store, session)
    const folder = byKey.has(session.id) ? session.id : storedFolderName(session.workspaceDir)
    const unitKey = folder !== null && byKey.has(folder) ? `workspace/${folder}` : null
    const merge = await target.store.mergeSession(transfer, { dryRun: true })
    sessions.push({
      id: session.id,
      unitKey,
      events: transfer.events.length,
      workspaceDir: session.workspaceDir,
      merge,
    })
    const unit = folder === null ? undefined : byKey.get(folder)
    if (merge.outcome === 'conflict' && unit?.state === 'copy') {
      unit.state = 'conflict'
      unit.reasons.push(`its session ${session.id} conflicts with the target database`)
    }
  }
  return { units, sessions, logs: [], orphanEvents: 0 }
}

async function copyUnits(
  plan: MigrationPlan,
  report: MigrationReport,
  source: Side,
  target: Side,
  journal: Journal,
  onStep: StepHook,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  tallyUnits(plan.units, report)
  if (source.workspaces === null || target.workspaces === null) return
  const total = report.summary.files.bytesToCopy
  let done = 0
  const ctx = {
    source: source.workspaces,
    target: target.workspaces,
    journal,
    onStep,
    onBytes: (bytes: number) => {
      done += bytes
      onProgress?.(done, total)
    },
  }
  // A source that keeps changing, or a path the target cannot hold (S3 keys end at 1,024 bytes), costs only its
  // own workspace; anything else (the service down, credentials refused) stops the run.
  await copyUnitsInParallel(plan.units as BackendUnit[], report, ['SOURCE_CHANGED', 'PATH_INVALID'], (unit) =>
    copyWorkspace(unit.workspaceKey, unit.listing, ctx),
  )
  if (report.files.skipped.length > 0) {
    report.warnings.push(
      `${report.files.skipped.length} links or special files were not copied (workspace storage keeps files and ` +
        `folders only): ${report.files.skipped.slice(0, 5).join(', ')}`,
    )
  }
  await onStep('files-done', '')
}

/**
 * Merge each session whose folder made it (or that has none), then read it
 * back from the target and compare events and share links with the source's,
 * field by field.
 */
async function mergeAndVerify(
  plan: MigrationPlan,
  report: MigrationReport,
  source: Store,
  target: Store,
  journal: Journal,
  onStep: StepHook,
): Promise<void> {
  const units = new Map(plan.units.map((unit) => [unit.key, unit]))
  for (const session of plan.sessions) {
    const unit = session.unitKey === null ? undefined : units.get(session.unitKey)
    if (session.merge.outcome === 'conflict') {
      report.sessions.conflicts.push({ id: session.id, reasons: session.merge.conflicts })
      continue
    }
    if (unit !== undefined && unit.state !== 'copy' && unit.state !== 'identical' && unit.state !== 'moving') {
      const why = unit.reasons.join('; ') || 'it differs at the target'
      report.sessions.conflicts.push({ id: session.id, reasons: [`its folder ${unit.key} was not migrated: ${why}`] })
      continue
    }
    const record = await source.getSession(session.id)
    if (record === null) continue
    const transfer = await readTransfer(source, record)
    const result = await target.mergeSession(transfer)
    if (result.outcome === 'conflict') {
      report.sessions.conflicts.push({ id: session.id, reasons: result.conflicts })
      continue
    }
    const mismatch = await compareTransfer(transfer, target)
    if (mismatch !== null) {
      report.sessions.conflicts.push({ id: session.id, reasons: [mismatch] })
      continue
    }
    report.sessions[result.outcome]++
    report.events.inserted += result.eventsInserted
    await journal.append({ t: 'session', id: session.id, outcome: result.outcome })
    await onStep('session-merged', session.id)
  }
}

/** Null when the target holds the session's events and share links exactly as the source does. */
async function compareTransfer(expected: SessionTransfer, target: Store): Promise<string | null> {
  const record = await target.getSession(expected.session.id)
  if (record === null) return 'the session is missing at the target after the merge'
  const actual = await readTransfer(target, record)
  if (actual.events.length !== expected.events.length) {
    return `the target holds ${actual.events.length} events of it, the source ${expected.events.length}`
  }
  for (let i = 0; i < expected.events.length; i++) {
    const a = expected.events[i]
    const b = actual.events[i]
    if (JSON.stringify(a) !== JSON.stringify(b)) return `event ${a?.id} (seq ${a?.seq}) differs at the target`
  }
  const tokens = new Set((actual.shares ?? []).map((share) => JSON.stringify(share)))
  for (const share of expected.shares ?? []) {
    if (!tokens.has(JSON.stringify(share))) return `share link ${share.token.slice(0, 6)}… differs at the target`
  }
  return null
}

/**
 * `--move`: delete from the source what is verified at the target. A
 * workspace goes only if it was copied or found identical, held nothing that
 * could not be copied (links), and still lists exactly as verified; a
 * SQLite source's events.db only when every session is at the target; on
 * PostgreSQL each verified session is deleted on its own.
 */
async function moveVerified(
  plan: MigrationPlan,
  report: MigrationReport,
  source: Side,
  journal: Journal,
): Promise<MoveResult> {
  const result: MoveResult = { folders: 0, logs: 0, database: false, kept: [] }
  const skippedUnits = new Set(report.files.skipped.map((p) => p.split('/').slice(0, 2).join('/')))
  const storage = source.workspaces?.storage
  for (const unit of plan.units as BackendUnit[]) {
    if (storage === undefined) break
    if (unit.state === 'different' || unit.state === 'conflict') {
      result.kept.push(`${unit.source}: not migrated`)
      continue
    }
    if (unit.state !== 'moving') {
      if (skippedUnits.has(unit.key) || unit.listing.some((entry) => entry.type === 'symlink')) {
        result.kept.push(`${unit.source}: it holds links, which were not copied`)
        continue
      }
      const now = await listWorkspace(storage, unit.workspaceKey).catch(() => null)
      if (now === null || changedEntry(unit.listing, now) !== null) {
        result.kept.push(`${unit.source}: changed after it was verified`)
        continue
      }
      await journal.append({ t: 'move-begin', unit: unit.key }, { sync: true })
    }
    await storage.remove(unit.workspaceKey, '')
    await journal.append({ t: 'move-done', unit: unit.key }, { sync: true })
    result.folders++
  }
  const merged = new Set(journal.all('session').map((entry) => entry.id))
  const kept = new Set(report.sessions.conflicts.map((conflict) => conflict.id))
  const units = new Map(plan.units.map((unit) => [unit.key, unit]))
  const sessionsKept = plan.sessions.filter((session) => {
    if (kept.has(session.id) || !merged.has(session.id)) return true
    const unit = session.unitKey === null ? undefined : units.get(session.unitKey)
    return unit !== undefined && result.kept.some((line) => line.startsWith(`${unit.source}:`))
  })
  if (source.root !== null) {
    const database = path.join(source.root, 'events.db')
    if (sessionsKept.length > 0) result.kept.push(`${database}: not every session is at the target`)
    else if (await exists(`${database}-wal`)) result.kept.push(`${database}: it is open (a -wal file exists)`)
    else {
      await unlink(database)
      await unlink(`${database}-shm`).catch(() => undefined)
      result.database = true
    }
  } else {
    const keptIds = new Set(sessionsKept.map((session) => session.id))
    for (const session of plan.sessions) if (!keptIds.has(session.id)) await source.store.deleteSession(session.id)
    for (const id of keptIds) result.kept.push(`session ${id}: not verified at the target`)
    result.database = keptIds.size === 0
  }
  return result
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  )
}

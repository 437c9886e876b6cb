import { rm, rmdir, stat, unlink } from 'node:fs/promises'
import { walkTree } from '../transfer/tree-walk.js'
import { planLogAppend } from './append-logs.js'
import { changedEntry } from './copy-unit.js'
import type { Journal } from './journal.js'
import type { MigrationPlan } from './migrate-plan.js'
import type { MigrationReport } from './migration-report.js'
import type { SourceLayout } from './source-layout.js'

export interface MoveResult {
  /** Source folders deleted after their copy was verified. */
  folders: number
  logs: number
  database: boolean
  /** What stayed in the source, and why. */
  kept: string[]
}

/**
 * `--move`: delete from the source exactly what is verified at the target,
 * nothing else. A folder goes only if it was copied or found identical and
 * is still exactly as verified (same entries, sizes, times); the database
 * only if every session and event is now at the target; a log only if the
 * target holds all of it. Each folder deletion is journaled first, so a run
 * killed halfway finishes it next time instead of seeing a "different" source.
 */
export async function moveSources(input: {
  layout: SourceLayout
  plan: MigrationPlan
  report: MigrationReport
  journal: Journal
  targetLog: string
}): Promise<MoveResult> {
  const { layout, plan, report, journal } = input
  const result: MoveResult = { folders: 0, logs: 0, database: false, kept: [] }
  for (const unit of plan.units) {
    if (unit.state === 'different' || unit.state === 'conflict') {
      result.kept.push(`${unit.source}: not migrated`)
      continue
    }
    if (unit.state !== 'moving') {
      const now = await walkTree(unit.source).catch(() => null)
      if (now === null || changedEntry(unit.entries, now) !== null) {
        result.kept.push(`${unit.source}: changed after it was verified`)
        continue
      }
      await journal.append({ t: 'move-begin', unit: unit.key }, { sync: true })
    }
    await rm(unit.source, { recursive: true, force: true })
    await journal.append({ t: 'move-done', unit: unit.key }, { sync: true })
    result.folders++
  }
  for (const dir of layout.workspaceDirs) await rmdir(dir).catch(() => undefined)

  const databaseComplete =
    report.sessions.conflicts.length === 0 && plan.orphanEvents === 0 && report.folders.failed.length === 0
  if (layout.database !== null) {
    if (!databaseComplete) result.kept.push(`${layout.database}: not every session or event is at the target`)
    else if (await exists(`${layout.database}-wal`))
      result.kept.push(`${layout.database}: it is open (a -wal file exists)`)
    else if (await exists(`${layout.database}-journal`)) {
      result.kept.push(`${layout.database}: it has an unfinished transaction (a -journal file exists)`)
    } else {
      await unlink(layout.database)
      await unlink(`${layout.database}-shm`).catch(() => undefined)
      result.database = true
    }
  }
  for (const log of layout.logs) {
    const { from, size } = await planLogAppend(log, input.targetLog)
    if (from !== size) {
      result.kept.push(`${log}: not all of it is in the target log`)
      continue
    }
    await unlink(log)
    result.logs++
  }
  return result
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  )
}

import type { LogAppendResult } from './append-logs.js'
import type { MigrationPlan, UnitPlan } from './migrate-plan.js'
import type { MoveResult } from './move-sources.js'
import type { SourceLayout } from './source-layout.js'

/** The plan in numbers, as printed before a migration starts. */
export interface MigrationSummary {
  source: {
    root: string
    /** `postgres`: a PostgreSQL database (its URL without the password in `root`), see backend-migrate.ts. */
    kind: 'berth' | 'ii-agent' | 'postgres'
    database: string | null
    workspaceDirs: string[]
    logs: string[]
  }
  target: string
  sourceServerRunning: boolean
  sessions: { total: number; new: number; extended: number; identical: number; conflicts: number }
  events: { total: number; toCopy: number; orphans: number }
  folders: { total: number; toCopy: number; identical: number; different: number; conflicts: number }
  files: { total: number; bytes: number; toCopy: number; bytesToCopy: number }
  logs: { source: string; bytes: number; toAppend: number }[]
  space: { freeBytes: number | null; neededBytes: number }
}

export interface MigrationReport {
  /** `done`: everything is at the target; `incomplete`: something was reported and left; `dry-run`: nothing written. */
  status: 'done' | 'incomplete' | 'dry-run'
  summary: MigrationSummary
  sessions: { inserted: number; extended: number; identical: number; conflicts: { id: string; reasons: string[] }[] }
  events: { inserted: number }
  folders: {
    copied: number
    identical: number
    different: { name: string; reasons: string[] }[]
    failed: { name: string; reason: string }[]
  }
  files: { copied: number; bytes: number; skipped: string[] }
  logs: LogAppendResult[]
  moved: MoveResult | null
  warnings: string[]
}

export function summarize(
  layout: SourceLayout,
  kind: 'berth' | 'ii-agent' | 'postgres',
  target: string,
  sourceServerRunning: boolean,
  plan: MigrationPlan,
): MigrationSummary {
  const count = (state: UnitPlan['state']) => plan.units.filter((unit) => unit.state === state).length
  const toCopy = plan.units.filter((unit) => unit.state === 'copy')
  const outcome = (name: string) => plan.sessions.filter((s) => s.merge.outcome === name).length
  return {
    source: {
      root: layout.root,
      kind,
      database: layout.database,
      workspaceDirs: layout.workspaceDirs,
      logs: layout.logs,
    },
    target,
    sourceServerRunning,
    sessions: {
      total: plan.sessions.length,
      new: outcome('inserted'),
      extended: outcome('extended'),
      identical: outcome('identical'),
      conflicts: outcome('conflict'),
    },
    events: {
      total: plan.sessions.reduce((sum, s) => sum + s.events, 0),
      toCopy: plan.sessions.reduce((sum, s) => sum + s.merge.eventsInserted, 0),
      orphans: plan.orphanEvents,
    },
    folders: {
      total: plan.units.length,
      toCopy: toCopy.length,
      identical: count('identical'),
      different: count('different'),
      conflicts: count('conflict'),
    },
    files: {
      total: plan.units.reduce((sum, unit) => sum + unit.files, 0),
      bytes: plan.units.reduce((sum, unit) => sum + unit.bytes, 0),
      toCopy: toCopy.reduce((sum, unit) => sum + unit.files, 0),
      bytesToCopy: toCopy.reduce((sum, unit) => sum + unit.bytes, 0),
    },
    logs: plan.logs,
    space: { freeBytes: null, neededBytes: 0 },
  }
}

export function emptyReport(summary: MigrationSummary, warnings: string[]): MigrationReport {
  return {
    status: 'done',
    summary,
    sessions: { inserted: 0, extended: 0, identical: 0, conflicts: [] },
    events: { inserted: 0 },
    folders: { copied: 0, identical: 0, different: [], failed: [] },
    files: { copied: 0, bytes: 0, skipped: [] },
    logs: [],
    moved: null,
    warnings,
  }
}

export function fillDryRun(report: MigrationReport, plan: MigrationPlan): void {
  report.status = 'dry-run'
  for (const session of plan.sessions) {
    if (session.merge.outcome === 'conflict')
      report.sessions.conflicts.push({ id: session.id, reasons: session.merge.conflicts })
  }
  for (const unit of plan.units) {
    if (unit.state === 'identical') report.folders.identical++
    if (unit.state === 'different' || unit.state === 'conflict') {
      report.folders.different.push({ name: unit.key, reasons: unit.reasons })
    }
  }
}

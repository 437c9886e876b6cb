import { lstat, stat } from 'node:fs/promises'
import path from 'node:path'
import type { DataPaths } from '../storage/data-root.js'
import type { Store } from '../store/store.js'
import type { SessionMergeResult } from '../store/types.js'
import { type TreeEntry, treeBytes, walkTree } from '../transfer/tree-walk.js'
import { isValidSessionId } from '../workspace/containment.js'
import { planLogAppend } from './append-logs.js'
import { compareTrees } from './compare-trees.js'
import type { CopyUnit } from './copy-unit.js'
import type { Journal } from './journal.js'
import { allSessions, readTransfer } from './source-database.js'
import { listWorkspaceUnits, type SourceLayout } from './source-layout.js'

export type UnitState =
  /** Not at the target yet: will be copied. */
  | 'copy'
  /** Already at the target with the same content: skipped. */
  | 'identical'
  /** At the target with other content: reported, never overwritten. */
  | 'different'
  /** Cannot be copied (its session conflicts, or two source copies disagree). */
  | 'conflict'
  /** An earlier `--move` verified it and began deleting the source: only the deletion is left. */
  | 'moving'

export interface UnitPlan extends CopyUnit {
  state: UnitState
  reasons: string[]
  files: number
  bytes: number
  /** The source as walked (for `--move`, which deletes only a source still exactly like this). */
  entries: TreeEntry[]
}

export interface SessionPlan {
  id: string
  /** The unit holding the session's folder, if it has one. */
  unitKey: string | null
  events: number
  /** Its folder at the target, written into `workspace_dir`. */
  workspaceDir: string
  /** What merging it into the target would do now. */
  merge: SessionMergeResult
}

export interface LogPlan {
  source: string
  bytes: number
  toAppend: number
}

export interface MigrationPlan {
  units: UnitPlan[]
  sessions: SessionPlan[]
  logs: LogPlan[]
  /** Events in the source database that belong to no session (ii-agent does not enforce the link). */
  orphanEvents: number
}

/**
 * Work out what a migration will do, touching nothing: which folders are
 * new, identical or different at the target, and what merging each session
 * would do (a dry run of the merge against the target database).
 */
export async function buildPlan(input: {
  layout: SourceLayout
  kind: 'berth' | 'ii-agent'
  target: DataPaths
  source: Store | null
  targetStore: Store | null
  journal: Journal
}): Promise<MigrationPlan> {
  const units = await planUnits(input.layout, input.kind, input.target, input.journal)
  const byKey = new Map(units.map((unit) => [unit.key, unit]))
  const sessions: SessionPlan[] = []
  let orphanEvents = 0
  if (input.source !== null) {
    const folders = new Set<string>()
    let counted = 0
    for await (const session of allSessions(input.source)) {
      const unitKey = sessionUnit(session.id, session.workspaceDir, byKey)
      const workspaceDir = path.join(input.target.workspaces, unitKey?.slice('workspace/'.length) ?? session.id)
      const transfer = await readTransfer(input.source, { ...session, workspaceDir })
      counted += transfer.events.length
      let merge: SessionMergeResult
      if (folders.has(workspaceDir)) {
        merge = conflict(`another session of the source also uses the folder ${workspaceDir}`)
      } else if (input.targetStore === null) {
        merge = {
          outcome: 'inserted',
          eventsInserted: transfer.events.length,
          eventsIdentical: 0,
          sharesInserted: 0,
          conflicts: [],
        }
      } else {
        merge = await input.targetStore.mergeSession(transfer, { dryRun: true })
      }
      folders.add(workspaceDir)
      sessions.push({ id: session.id, unitKey, events: transfer.events.length, workspaceDir, merge })
      const unit = unitKey === null ? undefined : byKey.get(unitKey)
      if (merge.outcome === 'conflict' && unit?.state === 'copy') {
        unit.state = 'conflict'
        unit.reasons.push(`its session ${session.id} conflicts with the target database`)
      }
    }
    orphanEvents = (await input.source.counts()).events - counted
  }
  const logs: LogPlan[] = []
  for (const log of input.layout.logs) {
    const { from, size } = await planLogAppend(log, input.target.logs)
    logs.push({ source: log, bytes: size, toAppend: size - from })
  }
  return { units, sessions, logs, orphanEvents }
}

async function planUnits(
  layout: SourceLayout,
  kind: 'berth' | 'ii-agent',
  target: DataPaths,
  journal: Journal,
): Promise<UnitPlan[]> {
  const moving = new Set(journal.all('move-begin').map((entry) => entry.unit))
  for (const entry of journal.all('move-done')) moving.delete(entry.unit)
  const plans = new Map<string, UnitPlan>()
  const candidates: CopyUnit[] = []
  for (const dir of layout.workspaceDirs) {
    for (const name of await listWorkspaceUnits(dir)) {
      candidates.push({
        key: `workspace/${name}`,
        source: path.join(dir, name),
        target: path.join(target.workspaces, name),
      })
    }
  }
  // Anything else a berth root keeps (share snapshots, eval results, backups) moves with it.
  if (kind === 'berth') {
    for (const name of layout.otherEntries) {
      candidates.push({ key: name, source: path.join(layout.root, name), target: path.join(target.root, name) })
    }
  }
  for (const unit of candidates) {
    const earlier = plans.get(unit.key)
    if (earlier !== undefined) {
      // The same folder name in both workspace/ and workspaces/.
      const same = await compareTrees(earlier.source, unit.source)
      if (!same.identical) {
        earlier.state = 'conflict'
        earlier.reasons.push(`${earlier.source} and ${unit.source} both exist with different content`)
      }
      continue
    }
    plans.set(unit.key, await planUnit(unit, moving.has(unit.key)))
  }
  return [...plans.values()]
}

async function planUnit(unit: CopyUnit, moving: boolean): Promise<UnitPlan> {
  const base = { ...unit, reasons: [] as string[] }
  if (moving) return { ...base, state: 'moving', files: 0, bytes: 0, entries: [] }
  const present = await lstat(unit.target).then(
    () => true,
    () => false,
  )
  if (!present) {
    const entries = await walkTree(unit.source)
    return { ...base, state: 'copy', entries, ...sizeOf(entries) }
  }
  const comparison = await compareTrees(unit.source, unit.target)
  return {
    ...base,
    state: comparison.identical ? 'identical' : 'different',
    reasons: comparison.differences,
    entries: comparison.sourceEntries,
    ...sizeOf(comparison.sourceEntries),
  }
}

/** The unit of a session: `workspace/<id>`, else the folder its stored path names (GAIA names folders by task). */
function sessionUnit(id: string, storedDir: string, units: Map<string, UnitPlan>): string | null {
  if (units.has(`workspace/${id}`)) return `workspace/${id}`
  const last = storedDir
    .split(/[\\/]/)
    .filter((part) => part !== '')
    .at(-1)
  if (last !== undefined && isValidSessionId(last) && units.has(`workspace/${last}`)) return `workspace/${last}`
  return null
}

function sizeOf(entries: TreeEntry[]): { files: number; bytes: number } {
  return { files: entries.filter((entry) => entry.type === 'file').length, bytes: treeBytes(entries) }
}

function conflict(reason: string): SessionMergeResult {
  return { outcome: 'conflict', eventsInserted: 0, eventsIdentical: 0, sharesInserted: 0, conflicts: [reason] }
}

/** Size of a file, 0 when missing. */
export async function fileSize(file: string | null): Promise<number> {
  if (file === null) return 0
  return stat(file).then(
    (s) => s.size,
    () => 0,
  )
}

import { formatBytes } from '../core/format-bytes.js'
import type { MigrationReport, MigrationSummary } from './migration-report.js'

const SOURCE_KINDS = {
  berth: 'berth data root',
  'ii-agent': 'ii-agent data folder',
  postgres: 'PostgreSQL database',
} as const

/**
 * The plan as printed before a migration copies anything.
 *
 * @example
 *   process.stdout.write(formatMigrationSummary(summary))
 */
export function formatMigrationSummary(s: MigrationSummary): string {
  const lines = [
    `Migration plan`,
    `  from      ${s.source.root} (${SOURCE_KINDS[s.source.kind]})`,
    ...s.source.workspaceDirs.map((dir) => `  files in  ${dir}`),
    `  to        ${s.target}`,
    `  sessions  ${s.sessions.total}: ${s.sessions.new} new, ${s.sessions.extended} to extend, ` +
      `${s.sessions.identical} already there, ${s.sessions.conflicts} in conflict`,
    `  events    ${s.events.total}: ${s.events.toCopy} to copy` +
      (s.events.orphans > 0 ? ` (${s.events.orphans} without a session stay behind)` : ''),
    `  folders   ${s.folders.total}: ${s.folders.toCopy} to copy, ${s.folders.identical} already there, ` +
      `${s.folders.different} different at the target, ${s.folders.conflicts} in conflict`,
    `  files     ${s.files.toCopy} of ${s.files.total} to copy, ${formatBytes(s.files.bytesToCopy)} of ${formatBytes(s.files.bytes)}`,
    ...s.logs.map(
      (log) => `  log       ${log.source}: ${formatBytes(log.toAppend)} of ${formatBytes(log.bytes)} to append`,
    ),
    `  space     needs about ${formatBytes(s.space.neededBytes)}, ` +
      (s.space.freeBytes === null ? 'free space unknown' : `${formatBytes(s.space.freeBytes)} free`),
  ]
  if (s.sourceServerRunning) lines.push('  note      a berth server is running on the source')
  return `${lines.join('\n')}\n\n`
}

/**
 * The final report: what was done, what was left and why.
 *
 * @example
 *   process.stdout.write(formatMigrationReport(report))
 */
export function formatMigrationReport(r: MigrationReport): string {
  const lines: string[] = []
  if (r.status === 'dry-run') lines.push('Dry run: nothing was written.')
  else {
    lines.push(
      `Sessions: ${r.sessions.inserted} added, ${r.sessions.extended} extended, ${r.sessions.identical} already there; ` +
        `${r.events.inserted} events copied.`,
      `Folders: ${r.folders.copied} copied (${r.files.copied} files, ${formatBytes(r.files.bytes)}, each verified by ` +
        `size and SHA-256), ${r.folders.identical} already there.`,
      ...r.logs.map((log) => `Log ${log.source}: ${log.outcome.replaceAll('-', ' ')} (${formatBytes(log.bytes)}).`),
    )
  }
  for (const conflict of r.sessions.conflicts) {
    lines.push(`CONFLICT session ${conflict.id}: ${conflict.reasons.join('; ')}`)
  }
  for (const folder of r.folders.different) lines.push(`LEFT folder ${folder.name}: ${folder.reasons.join('; ')}`)
  for (const folder of r.folders.failed) lines.push(`FAILED folder ${folder.name}: ${folder.reason}`)
  if (r.moved) {
    lines.push(
      `Moved: deleted ${r.moved.folders} source folders, ${r.moved.logs} logs` +
        `${r.moved.database ? ' and the source database' : ''} after verifying them at the target.`,
      ...r.moved.kept.map((kept) => `  kept ${kept}`),
    )
  }
  for (const warning of r.warnings) lines.push(`WARNING ${warning}`)
  const left = r.sessions.conflicts.length + r.folders.different.length + r.folders.failed.length
  if (r.status === 'done') lines.push('Migration complete.')
  else if (r.status === 'incomplete') {
    lines.push(`Migration finished with ${left} item(s) left in the source (see above); nothing was overwritten.`)
  } else if (left > 0) lines.push(`${left} item(s) would be left (see above).`)
  return `${lines.join('\n')}\n`
}

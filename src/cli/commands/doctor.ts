import type { Command } from 'commander'
import { type DoctorReport, runDoctor } from '../../doctor/doctor.js'
import { configFor } from '../options.js'
import { action } from '../run-command.js'

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('Check the data root, database and workspaces; exit 1 if something is wrong')
    .option('--json', 'print the report as JSON')
    .action(
      action(async (options: { json?: boolean }, command: Command) => {
        const report = await runDoctor(configFor(command))
        process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report))
        return report.ok ? 0 : 1
      }),
    )
}

const MARK = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const

function formatReport(report: DoctorReport): string {
  const s = report.storage
  const lines = [
    `storage mode   ${s.mode.toUpperCase()}${s.mode === 'ephemeral' ? '  (data here will be LOST on restart or redeploy)' : ''}`,
    `data root      ${s.root ?? '?'}  (${s.source ?? '?'})`,
    `database       ${s.database ?? '?'}`,
    `workspaces     ${s.workspaces ?? '?'}`,
    `logs           ${s.logs ?? '?'}`,
    '',
    ...report.checks.map((check) => `[${MARK[check.status]}] ${check.name}: ${check.detail}`),
    '',
    report.ok ? 'All checks passed.' : 'Some checks FAILED (see above).',
  ]
  const pending = report.database.pendingMigrations
  if (pending.length > 0) {
    lines.push(
      '',
      `Pending schema steps (not run by doctor; the next start backs up ${s.database ?? 'the database'} and applies them):`,
      ...pending.map((name) => `  ${name}`),
    )
  }
  if (report.workspaces.withoutSession.length > 0) {
    lines.push(
      '',
      'Workspace folders without a session:',
      ...report.workspaces.withoutSession.slice(0, 20).map((n) => `  ${n}`),
    )
  }
  if (report.workspaces.sessionsWithoutWorkspace.length > 0) {
    lines.push(
      '',
      'Sessions without a workspace folder:',
      ...report.workspaces.sessionsWithoutWorkspace.slice(0, 20).map((n) => `  ${n}`),
    )
  }
  return `${lines.join('\n')}\n`
}

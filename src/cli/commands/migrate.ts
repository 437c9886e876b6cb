import cliProgress from 'cli-progress'
import type { Command } from 'commander'
import { BerthError, isBerthError } from '../../core/errors.js'
import { formatMigrationReport, formatMigrationSummary } from '../../migrate/format-report.js'
import { type MigrationReport, runMigration } from '../../migrate/migrate.js'
import { killHookFromEnv } from '../../migrate/test-hook.js'
import { chooseDataRoot } from '../../storage/data-root.js'
import { configFor } from '../options.js'

interface MigrateFlags {
  from?: string
  to?: string
  workspaceFrom?: string
  workspaceTo?: string
  dryRun?: boolean
  move?: boolean
  json?: boolean
}

/** Refusals before anything was written: fix the cause and run again. */
const REFUSALS = new Set([
  'MIGRATE_REFUSED',
  'MIGRATE_SOURCE_INVALID',
  'NOT_ENOUGH_SPACE',
  'ROOT_NOT_WRITABLE',
  'ROOT_NOT_A_DIRECTORY',
  'ROOT_LOCKED',
  'DATABASE_UNREADABLE',
  'DATABASE_TOO_NEW',
  'CONFIG_INVALID',
])

/**
 * `berth migrate`. Exit codes: 0 everything is at the target (or a dry run
 * found nothing in the way); 1 refused before starting, or finished with
 * conflicts or folders left behind (listed); 2 stopped by an error such as a
 * full disk: run the same command again to resume.
 */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(
      'Copy (or --move) a berth or ii-agent data folder into a data root, or a data root into PostgreSQL and S3 and back, verified and resumable',
    )
    .option('--from <dir|url>', 'source data folder, or postgres://… (default: the current directory)')
    .option(
      '--to <dir|url>',
      'target data root, or postgres://… (default: --data-dir, BERTH_DATA_DIR, a platform volume or /var/data)',
    )
    .option('--workspace-from <url|dir>', "with --from postgres://…: the workspaces' s3://bucket/prefix or folder")
    .option(
      '--workspace-to <url|dir>',
      'with --to postgres://…: where the workspaces go, s3://bucket/prefix or a folder',
    )
    .option('--dry-run', 'print the plan and stop; nothing is written')
    .option('--move', 'delete from the source what was verified at the target')
    .option('--json', 'print the report as JSON on stdout')
    .addHelpText(
      'after',
      '\nExit codes: 0 done; 1 refused, or conflicts/folders left (see report); 2 stopped by an error (rerun to resume).',
    )
    .action(async (flags: MigrateFlags, command: Command) => {
      process.exitCode = await migrateCommand(flags, command)
    })
}

async function migrateCommand(flags: MigrateFlags, command: Command): Promise<number> {
  const out = (text: string) => process.stdout.write(text)
  const progress =
    !flags.json && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { stream: process.stderr, format: 'copying |{bar}| {percentage}% {value_mb}/{total_mb} MB' },
          cliProgress.Presets.shades_classic,
        )
      : null
  let report: MigrationReport
  try {
    const config = configFor(command)
    const to = flags.to ?? defaultTarget(config.dataDir, config.env)
    report = await runMigration({
      from: flags.from ?? process.cwd(),
      to,
      workspaceFrom: flags.workspaceFrom,
      workspaceTo: flags.workspaceTo,
      s3: {
        awsAccessKeyId: config.awsAccessKeyId,
        awsSecretAccessKey: config.awsSecretAccessKey,
        awsRegion: config.awsRegion,
        awsEndpointUrlS3: config.awsEndpointUrlS3,
      },
      databaseCaFile: config.databaseCaFile,
      dryRun: flags.dryRun,
      move: flags.move,
      onStep: killHookFromEnv(process.env),
      onPlan: (summary) => {
        if (!flags.json) out(formatMigrationSummary(summary))
        progress?.start(summary.files.bytesToCopy, 0, { value_mb: '0', total_mb: toMb(summary.files.bytesToCopy) })
      },
      onProgress: (done) => progress?.update(done, { value_mb: toMb(done) }),
    })
  } catch (error) {
    progress?.stop()
    const refused = isBerthError(error) && REFUSALS.has(error.code)
    const message = error instanceof Error ? error.message : String(error)
    if (flags.json) {
      out(
        `${JSON.stringify({ status: refused ? 'refused' : 'stopped', error: isBerthError(error) ? error.toJSON() : { message } }, null, 2)}\n`,
      )
    } else if (refused) {
      process.stderr.write(`berth migrate: refused: ${message}\n`)
    } else {
      process.stderr.write(
        `berth migrate: stopped: ${message}\nWhat was done is kept and journaled: run the same command again to continue.\n`,
      )
      if (!isBerthError(error) && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`)
    }
    return refused ? 1 : 2
  }
  progress?.stop()
  out(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatMigrationReport(report))
  const clean = report.sessions.conflicts.length === 0 && report.folders.different.length === 0
  if (report.status === 'dry-run') return clean ? 0 : 1
  return report.status === 'done' ? 0 : 1
}

function defaultTarget(dataDir: string | undefined, env: Record<string, string | undefined>): string {
  const choice = chooseDataRoot({ flag: dataDir, env, cwd: process.cwd() })
  if (choice.source === 'cwd') {
    throw new BerthError(
      'MIGRATE_REFUSED',
      'No target given: pass --to <dir> (or --data-dir / BERTH_DATA_DIR). The default, /var/data, does not exist here.',
    )
  }
  return choice.root
}

function toMb(bytes: number): string {
  return (bytes / 1024 ** 2).toFixed(1)
}

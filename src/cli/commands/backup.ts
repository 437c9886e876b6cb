import path from 'node:path'
import type { Command } from 'commander'
import { createBackendBackup } from '../../backup/backend-backup.js'
import { BACKUPS_DIR, createBackup, defaultName } from '../../backup/create-backup.js'
import { verifyBackup } from '../../backup/verify-backup.js'
import { formatBytes } from '../../core/format-bytes.js'
import { chooseDataRoot, dataPaths } from '../../storage/data-root.js'
import { storeLocation } from '../../store/open-store.js'
import { configFor } from '../options.js'
import { action } from '../run-command.js'

/**
 * `berth backup [--out FILE]` writes a consistent snapshot of the data root
 * (safe while the server runs); `berth backup --verify FILE` checks one.
 * With DATABASE_URL=postgres://… it backs up PostgreSQL and the workspaces
 * (BERTH_WORKSPACE_URL's bucket, else the data root's folder) into the same
 * archive format (src/backup/backend-backup.ts).
 * Exit 0 when written or sound, 1 when the archive fails verification.
 */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('Write the whole data root (database, workspaces, logs) into one verified archive')
    .option(
      '--out <file>',
      'archive to write (default: <root>/backups/berth-backup-<time>.tar.gz; .tar for no compression)',
    )
    .option('--verify <file>', 'check an archive against its manifest instead of writing one')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (options: { out?: string; verify?: string; json?: boolean }, command: Command) => {
        const write = (text: string) => process.stdout.write(text)
        if (options.verify !== undefined) {
          const result = await verifyBackup(options.verify)
          if (options.json) write(`${JSON.stringify(result, null, 2)}\n`)
          else if (result.ok) {
            const m = result.manifest
            write(
              `${options.verify}: OK. Taken ${m?.createdAt} from ${m?.root}: ${m?.database?.sessions ?? 0} sessions, ` +
                `${m?.database?.events ?? 0} events, ${m?.entries.filter((e) => e.type === 'file').length ?? 0} files; ` +
                'every checksum matches and the database passes its integrity check.\n',
            )
          } else write(`${options.verify}: FAILED\n${result.problems.map((p) => `  ${p}`).join('\n')}\n`)
          return result.ok ? 0 : 1
        }
        const config = configFor(command)
        const { root } = chooseDataRoot({ flag: config.dataDir, env: config.env, cwd: process.cwd() })
        const location = storeLocation(config, dataPaths(root).database)
        const result =
          location.kind === 'postgres'
            ? await createBackendBackup({
                databaseUrl: location.url,
                // S3 when BERTH_WORKSPACE_URL is set, else the data root's workspace folder (PostgreSQL + one disk).
                workspaceUrl: config.workspaceUrl || dataPaths(root).workspaces,
                s3: {
                  awsAccessKeyId: config.awsAccessKeyId,
                  awsSecretAccessKey: config.awsSecretAccessKey,
                  awsRegion: config.awsRegion,
                  awsEndpointUrlS3: config.awsEndpointUrlS3,
                },
                databaseCaFile: location.caFile,
                out: options.out ?? path.join(root, BACKUPS_DIR, defaultName(new Date())),
              })
            : await createBackup({ root, out: options.out })
        if (options.json)
          write(`${JSON.stringify({ file: result.file, bytes: result.bytes, manifest: result.manifest }, null, 2)}\n`)
        else {
          const m = result.manifest
          write(
            `Backup written to ${result.file} (${formatBytes(result.bytes)}): ${m.database?.sessions ?? 0} sessions, ` +
              `${m.database?.events ?? 0} events, ${m.entries.filter((e) => e.type === 'file').length} files.\n` +
              m.warnings.map((w) => `WARNING ${w}\n`).join(''),
          )
        }
        return 0
      }),
    )
}

import type { Command } from 'commander'
import { restoreBackup } from '../../backup/restore-backup.js'
import { action } from '../run-command.js'

/** `berth restore FILE --to DIR`: rebuild a data root from a backup, every checksum verified first. */
export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description('Rebuild a data root from a backup archive (verified first; never overwrites data)')
    .argument('<file>', 'archive written by berth backup')
    .requiredOption('--to <dir>', 'data root to rebuild (missing, empty, or a fresh root)')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (file: string, options: { to: string; json?: boolean }) => {
        const result = await restoreBackup(file, options.to)
        process.stdout.write(
          options.json
            ? `${JSON.stringify({ root: result.root, sessions: result.sessions, events: result.events, files: result.files }, null, 2)}\n`
            : `Restored ${result.root} from ${file} (taken ${result.manifest.createdAt}): ${result.sessions} sessions, ` +
                `${result.events} events, ${result.files} files, every checksum verified.\n`,
        )
        return 0
      }),
    )
}

import { createReadStream } from 'node:fs'
import type { Command } from 'commander'
import { importSessionBundle } from '../../bundle/import-session-bundle.js'
import { openRuntime } from '../../runtime/runtime.js'
import { configFor } from '../options.js'
import { action } from '../run-command.js'

/** `berth import FILE`: add a session from a bundle; ids are kept when free and remapped when taken. */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description('Import a session bundle written by berth export (verified before anything changes)')
    .argument('<file>', 'bundle to import')
    .option('--device <id>', 'device the session belongs to here (default: the one it had)')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (file: string, options: { device?: string; json?: boolean }, command: Command) => {
        const runtime = await openRuntime(configFor(command), {
          role: 'writer',
          command: 'berth import',
          terminalLogs: false,
          shells: false,
        })
        try {
          const result = await importSessionBundle(runtime.store, runtime.workspaces, createReadStream(file), {
            deviceId: options.device,
            storage: runtime.workspaceStorage,
          })
          const remap = result.remapped ? ` (its id ${result.originalId} was taken here)` : ''
          process.stdout.write(
            options.json
              ? `${JSON.stringify(result, null, 2)}\n`
              : `Imported session ${result.sessionId}${remap}: ${result.events} events, ${result.files} files.\n`,
          )
          return 0
        } finally {
          await runtime.close()
        }
      }),
    )
}

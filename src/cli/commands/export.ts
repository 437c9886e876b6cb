import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import path from 'node:path'
import type { Command } from 'commander'
import { writeSessionBundle } from '../../bundle/write-session-bundle.js'
import { syncDirectory, syncFile } from '../../core/fsync.js'
import { openRuntime } from '../../runtime/runtime.js'
import { configFor } from '../options.js'
import { action } from '../run-command.js'

/** `berth export <session> [--out FILE]`: write a portable session bundle (readable while the server runs). */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('Write one session (events, workspace files, checksums) as a portable bundle')
    .argument('<session>', 'session id')
    .option('--out <file>', 'bundle to write (default: ./berth-session-<id>.tar.gz)')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (sessionId: string, options: { out?: string; json?: boolean }, command: Command) => {
        const runtime = await openRuntime(configFor(command), {
          role: 'reader',
          command: 'berth export',
          terminalLogs: false,
        })
        const out = path.resolve(options.out ?? `berth-session-${sessionId}.tar.gz`)
        const partial = `${out}.partial`
        try {
          const summary = await writeSessionBundle(
            runtime.store,
            runtime.workspaceStorage,
            sessionId,
            createWriteStream(partial, { flags: 'wx' }),
          )
          await syncFile(partial)
          await rename(partial, out)
          await syncDirectory(path.dirname(out))
          process.stdout.write(
            options.json
              ? `${JSON.stringify({ file: out, ...summary }, null, 2)}\n`
              : `Exported session ${sessionId} to ${out}: ${summary.events} events, ${summary.files} files.\n`,
          )
          return 0
        } catch (error) {
          await rm(partial, { force: true })
          throw error
        } finally {
          await runtime.close()
        }
      }),
    )
}

import type { Command } from 'commander'
import { formatBytes } from '../../core/format-bytes.js'
import { parseDuration } from '../../prune/parse-duration.js'
import { type PruneCandidate, planPrune, pruneSessions } from '../../prune/prune-sessions.js'
import { openRuntime } from '../../runtime/runtime.js'
import { configFor } from '../options.js'
import { action } from '../run-command.js'

/**
 * `berth prune --older-than 30d [--dry-run]`: explicit retention. Lists
 * every session it deletes (with its events and folder size), then deletes
 * them. Never runs by itself.
 */
export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description('Delete sessions (events and workspace folders) idle for longer than an age you give')
    .requiredOption('--older-than <age>', 'last activity older than this, e.g. 30d, 12h, 2w')
    .option('--dry-run', 'list what would be deleted and stop')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (options: { olderThan: string; dryRun?: boolean; json?: boolean }, command: Command) => {
        const olderThanMs = parseDuration(options.olderThan)
        const runtime = await openRuntime(configFor(command), {
          role: options.dryRun ? 'reader' : 'writer',
          command: 'berth prune',
          terminalLogs: false,
        })
        const out = (text: string) => process.stdout.write(text)
        try {
          const storage = runtime.workspaceStorage
          const plan = await planPrune(runtime.store, runtime.workspaces, { olderThanMs, storage })
          const totals = {
            sessions: plan.candidates.length,
            events: plan.candidates.reduce((sum, c) => sum + c.events, 0),
            bytes: plan.candidates.reduce((sum, c) => sum + c.bytes, 0),
          }
          if (!options.json) {
            out(
              `${options.dryRun ? 'Would delete' : 'Deleting'} ${totals.sessions} sessions idle since before ` +
                `${plan.cutoff} UTC: ${totals.events} events, ${formatBytes(totals.bytes)} of files.\n`,
            )
            for (const candidate of plan.candidates) out(`  ${describe(candidate)}\n`)
            for (const id of plan.running) out(`  kept ${id}: a run is marked as going on\n`)
          }
          const freed = options.dryRun
            ? null
            : await pruneSessions(
                runtime.store,
                runtime.workspaces,
                plan.candidates,
                (c) =>
                  runtime.logger.info(
                    { session: c.id, events: c.events, bytes: c.bytes },
                    'berth prune deleted a session',
                  ),
                storage,
              )
          if (options.json) out(`${JSON.stringify({ ...plan, dryRun: options.dryRun === true, freed }, null, 2)}\n`)
          else if (freed) {
            out(
              `Deleted ${freed.sessions} sessions, ${freed.events} events and ${formatBytes(freed.bytes)} of files.\n`,
            )
          }
          return 0
        } finally {
          await runtime.close()
        }
      }),
    )
}

function describe(c: PruneCandidate): string {
  const title = c.name ?? c.summary ?? ''
  return `${c.id}  last active ${c.lastActive ?? 'unknown'}  ${c.events} events  ${formatBytes(c.bytes)}${title ? `  ${title}` : ''}`
}

import type { Command } from 'commander'
import { createRunManager } from '../../agent/create-run-manager.js'
import { openRuntime } from '../../runtime/runtime.js'
import { createServer } from '../../server/create-server.js'
import { UpgradeGate } from '../../server/upgrade-gate.js'
import { configFor } from '../options.js'
import { action } from '../run-command.js'

const SHUTDOWN_DEADLINE_MS = 10_000

export function registerServe(program: Command): void {
  program
    .command('serve', { isDefault: true })
    .description('Start the server (API, WebSocket, UI, hosted sites) on one port')
    .option('--host <host>', 'address to listen on (default: 0.0.0.0)')
    .option('--port <port>', 'port to listen on (default: PORT or 8000)')
    .option('--workspace-quota <size>', 'largest size of one session workspace (default: 5GiB)')
    .option('--upload-limit <size>', 'largest single upload (default: 100MB)')
    .action(
      action(async (_options: unknown, command: Command) => {
        const config = configFor(command)
        // The port opens as soon as the root is locked: health checks pass and every other request gets a
        // 503 saying why while the database opens (an upgrade of a large one takes a while).
        const gate = new UpgradeGate()
        let port = config.port
        const runtime = await openRuntime(config, {
          role: 'server',
          command: 'berth serve',
          beforeStore: async ({ logger }) => {
            port = await gate.listen(config.host, config.port)
            logger.info(`Port ${port} is open on ${config.host}; requests get 503 until the database is ready`)
          },
          onUpgradeProgress: (progress) => gate.setProgress(progress),
        }).catch(async (error: unknown) => {
          if (gate.server.listening) await gate.close()
          throw error
        })
        const { logger } = runtime
        gate.setProgress(null)
        const runs = createRunManager(runtime)
        const recovered = await runs.recoverInterrupted()
        if (recovered > 0) logger.warn(`${recovered} run(s) were in flight when berth last stopped; marked interrupted`)
        runs.watchLapsedRuns()
        const app = await createServer({ ...runtime, runs }, { adopt: gate })
        await app.ready()
        gate.open()
        // The signal handlers go in before the line that tells a supervisor (or a test) berth is up.
        const stopped = new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            logger.info(`${signal} received, shutting down`)
            const deadline = setTimeout(() => {
              logger.error('shutdown took longer than 10 s; exiting anyway')
              process.exit(1)
            }, SHUTDOWN_DEADLINE_MS)
            deadline.unref()
            // Stop accepting, interrupt runs (recorded), then flush and close the store.
            Promise.all([gate.close(), app.close(), runs.shutdown()])
              .then(() => runtime.close())
              .catch((error: unknown) => logger.error({ err: error }, 'error during shutdown'))
              .finally(resolve)
          }
          process.once('SIGTERM', () => stop('SIGTERM'))
          process.once('SIGINT', () => stop('SIGINT'))
        })
        logger.info(`berth is listening on http://${config.host}:${port}`)
        await stopped
        logger.info('berth stopped')
        return 0
      }),
    )
}

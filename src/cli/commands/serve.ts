import type { Command } from 'commander'
import { openRuntime } from '../../runtime/runtime.js'
import { createServer } from '../../server/create-server.js'
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
    .action(
      action(async (_options: unknown, command: Command) => {
        const config = configFor(command)
        const runtime = await openRuntime(config, { role: 'server', command: 'berth serve' })
        const { logger } = runtime
        const app = await createServer(runtime)
        await app.listen({ host: config.host, port: config.port })
        logger.info(`berth is listening on http://${config.host}:${(app.server.address() as { port: number }).port}`)

        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            logger.info(`${signal} received, shutting down`)
            const deadline = setTimeout(() => {
              logger.error('shutdown took longer than 10 s; exiting anyway')
              process.exit(1)
            }, SHUTDOWN_DEADLINE_MS)
            deadline.unref()
            app
              .close()
              .then(() => runtime.close())
              .catch((error: unknown) => logger.error({ err: error }, 'error during shutdown'))
              .finally(resolve)
          }
          process.once('SIGTERM', () => stop('SIGTERM'))
          process.once('SIGINT', () => stop('SIGINT'))
        })
        logger.info('berth stopped')
        return 0
      }),
    )
}

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * A throwaway service (a PostgreSQL cluster, a radosgw) shared by every test
 * file of one vitest run: the first caller in the run folder starts it (a
 * `mkdir` decides who) and writes what others need to reach it; the others
 * wait for that and attach. A failed start is written down so the others fail
 * at once with its reason instead of waiting out the timeout.
 *
 * @example
 *   const cluster = await oncePerRun({ runDir, what: 'PostgreSQL cluster', timeoutMs: 90_000,
 *     start: async () => { const c = await startCluster(dir); return { handle: c, info: { port: c.port } } },
 *     attach: (info) => clusterHandle(dir, info.port) })
 */
export async function oncePerRun<Info, Handle>(options: {
  runDir: string
  what: string
  timeoutMs: number
  start(): Promise<{ handle: Handle; info: Info }>
  attach(info: Info): Handle
}): Promise<Handle> {
  const ready = join(options.runDir, 'ready.json')
  const failed = join(options.runDir, 'failed.txt')
  let starter = false
  try {
    mkdirSync(join(options.runDir, 'starting'))
    starter = true
  } catch {
    // another test file is starting it
  }
  if (starter) {
    try {
      const { handle, info } = await options.start()
      const temp = `${ready}.tmp`
      writeFileSync(temp, JSON.stringify(info))
      renameSync(temp, ready)
      return handle
    } catch (error) {
      writeFileSync(failed, String(error))
      throw error
    }
  }
  const deadline = Date.now() + options.timeoutMs
  while (Date.now() < deadline) {
    if (existsSync(ready)) return options.attach(JSON.parse(readFileSync(ready, 'utf8')) as Info)
    if (existsSync(failed))
      throw new Error(`the shared ${options.what} failed to start: ${readFileSync(failed, 'utf8')}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for the shared ${options.what} to start`)
}

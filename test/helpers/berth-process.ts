import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { TSX_IMPORT } from './tsx.js'

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

export interface BerthProcess {
  child: ChildProcess
  /** Everything written so far. */
  output(): { stdout: string; stderr: string }
  /** Resolves with the first match in stdout+stderr (waiting for it), or rejects when the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>
  stop(signal?: NodeJS.Signals): Promise<number | string>
}

/**
 * Run the berth CLI from source as a child process, as a user would run it.
 *
 * @example
 *   const berth = startBerth(['serve', '--port', '0'], { cwd: root })
 *   const [, port] = await berth.waitFor(/listening on http:\/\/[^:]+:(\d+)/)
 */
export function startBerth(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; uid?: number; gid?: number },
): BerthProcess {
  return startProcess(process.execPath, ['--import', TSX_IMPORT, CLI, ...args], options)
}

/** Any command as a watched child process (e.g. berth from a built copy inside a mount namespace). */
export function startProcess(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; uid?: number; gid?: number },
): BerthProcess {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...options.env }
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key]
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
  })
  let stdout = ''
  let stderr = ''
  const watchers = new Set<() => void>()
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    for (const check of watchers) check()
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    for (const check of watchers) check()
  })
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  })
  let done = false
  void exited.then(() => {
    done = true
    for (const check of watchers) check()
  })

  return {
    child,
    output: () => ({ stdout, stderr }),
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(check)
          reject(new Error(`timed out waiting for ${pattern}\nstdout:\n${stdout}\nstderr:\n${stderr}`))
        }, timeoutMs)
        function check(): void {
          const match = `${stdout}\n${stderr}`.match(pattern)
          if (match) {
            clearTimeout(timer)
            watchers.delete(check)
            resolve(match)
          } else if (done) {
            clearTimeout(timer)
            watchers.delete(check)
            reject(new Error(`berth exited before ${pattern}\nstdout:\n${stdout}\nstderr:\n${stderr}`))
          }
        }
        watchers.add(check)
        check()
      })
    },
    async stop(signal = 'SIGTERM') {
      if (!done) child.kill(signal)
      return exited
    },
  }
}

/** Run a berth command to completion. */
export async function runBerth(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; uid?: number; gid?: number },
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const berth = startBerth(args, options)
  const code = await berth.exited
  return { code, ...berth.output() }
}

/** Start `berth serve` on a free port and wait until it listens. */
export async function startServer(options: {
  cwd: string
  env?: Record<string, string | undefined>
  args?: string[]
  /** How long to wait for the listening line (default 20 s; several servers starting at once need more). */
  readyTimeoutMs?: number
}): Promise<BerthProcess & { url: string; port: number }> {
  const berth = startBerth(['serve', '--port', '0', '--host', '127.0.0.1', ...(options.args ?? [])], options)
  // A server that never says it listens is killed, not left running after the test.
  const [, port] = await berth
    .waitFor(/listening on http:\/\/[^\s:]+:(\d+)/, options.readyTimeoutMs)
    .catch(async (error: unknown) => {
      await berth.stop('SIGKILL').catch(() => undefined)
      throw error
    })
  return Object.assign(berth, { port: Number(port), url: `http://127.0.0.1:${port}` })
}

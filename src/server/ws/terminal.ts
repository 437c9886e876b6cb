import { spawn } from 'node:child_process'
import type { ShellSandbox } from '../../tools/bash/sandbox.js'

const TIMEOUT_MS = 60_000
const OUTPUT_CAP = 64 * 1024

/**
 * Run one `terminal_command` in the session's workspace: a fresh `bash -lc`
 * in the agent's sandbox, its own process group (killed on timeout), output
 * capped, secrets kept out of its environment (`shellEnv`). Separate from the
 * agent's shell, so a user's command never interferes with a running agent.
 */
export function runTerminalCommand(
  command: string,
  cwd: string,
  env: Record<string, string>,
  sandbox: ShellSandbox,
): Promise<{ output: string; success: boolean }> {
  return new Promise((resolve) => {
    const launch = sandbox.launch(['bash', '-lc', command], cwd)
    const [program, ...args] = launch.argv
    const child = spawn(program as string, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    child.once('close', launch.cleanup)
    let output = ''
    let truncated = false
    const collect = (chunk: Buffer) => {
      if (output.length < OUTPUT_CAP) output += chunk.toString('utf8')
      else truncated = true
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', collect)
    const timer = setTimeout(() => {
      truncated = true
      output += `\n[timed out after ${TIMEOUT_MS / 1000} s]`
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
    }, TIMEOUT_MS)
    child.once('error', (error) => {
      clearTimeout(timer)
      resolve({ output: String(error), success: false })
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      const text = output.length > OUTPUT_CAP ? output.slice(0, OUTPUT_CAP) : output
      resolve({ output: truncated ? `${text}\n[output truncated]` : text, success: code === 0 })
    })
  })
}

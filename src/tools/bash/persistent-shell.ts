import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { StringDecoder } from 'node:string_decoder'
import { BerthError } from '../../core/errors.js'
import { HeadTailBuffer } from '../output-cap.js'
import type { ShellSandbox } from './sandbox.js'

export interface ShellOptions {
  /** The folder the shell starts in (and restarts in). */
  cwd: string
  env: Record<string, string>
  /** Default `bash` from PATH. */
  shell?: string
  /** Where the shell runs; default the host. */
  sandbox?: ShellSandbox
}

export interface ShellRunOptions {
  timeoutMs: number
  signal?: AbortSignal
  /** Called with output as it arrives (stdout and stderr interleaved as the shell wrote them). */
  onOutput?: (text: string) => void
  /** Characters kept from the start and the end of the output; the middle is counted, not kept. */
  headChars?: number
  tailChars?: number
}

/**
 * How a command ended: `exited` (the marker came back, `exitCode` is `$?`),
 * `timeout` or `aborted` (the process group was killed), or `shell-exited`
 * (the command ended the shell itself, e.g. `exit 3`).
 */
export type ShellRunStatus = 'exited' | 'timeout' | 'aborted' | 'shell-exited'

export interface ShellRunResult {
  status: ShellRunStatus
  exitCode: number | null
  /** Head and tail of the output, with a marker where the middle was left out. */
  output: string
  totalChars: number
  omittedChars: number
  durationMs: number
}

const live = new Set<PersistentShell>()
let exitHookInstalled = false

/**
 * One bash process that keeps its state (cwd, variables, functions) between
 * commands, like a terminal left open. Commands run one at a time.
 *
 * Protocol: each command is sent as `eval '<command>' < /dev/null` followed
 * by `printf '\n<token> %d\n' "$?"` with a fresh random token, so the end of
 * a command and its exit code are recognised even when the command prints
 * anything at all, has a syntax error, or leaves a quote open. Its stdin is
 * /dev/null, so nothing waits for input that never comes.
 *
 * The shell leads its own process group (detached spawn), and everything it
 * starts, background jobs included, stays in that group: on timeout, abort
 * or dispose the whole group is killed with `process.kill(-pid)`, and the
 * next command gets a fresh shell.
 *
 * @example
 *   const shell = new PersistentShell({ cwd: workspaceDir, env: shellEnv(process.env) })
 *   const result = await shell.run('cd site && ls', { timeoutMs: 120_000, signal })
 *   result.exitCode // 0
 *   await shell.dispose()
 */
export class PersistentShell {
  private child: ChildProcessWithoutNullStreams | null = null
  private decoder = new StringDecoder('utf8')
  private active: ActiveCommand | null = null
  private queue: Promise<unknown> = Promise.resolve()
  private disposed = false

  constructor(private readonly options: ShellOptions) {}

  /** The shell's pid (= its process group id), or null when none is running. */
  get pid(): number | null {
    return this.child?.pid ?? null
  }

  /** Run one command; queued behind any command still running. */
  run(command: string, options: ShellRunOptions): Promise<ShellRunResult> {
    const next = this.queue.then(() => this.runNow(command, options))
    this.queue = next.catch(() => undefined)
    return next
  }

  /** Kill the shell and everything it started. Safe to call twice. */
  async dispose(): Promise<void> {
    this.disposed = true
    this.active?.finish('aborted', null)
    this.kill()
  }

  private async runNow(command: string, options: ShellRunOptions): Promise<ShellRunResult> {
    if (this.disposed) throw new BerthError('TOOL_FAILED', 'The shell of this session was closed.')
    if (command.includes('\0')) throw new BerthError('TOOL_INPUT_INVALID', 'The command contains a NUL byte.')
    if (options.signal?.aborted) {
      return { status: 'aborted', exitCode: null, output: '', totalChars: 0, omittedChars: 0, durationMs: 0 }
    }
    const child = this.ensureStarted()
    const token = `__BERTH_END_${randomBytes(12).toString('hex')}__`
    const started = Date.now()
    return new Promise<ShellRunResult>((resolve) => {
      const buffer = new HeadTailBuffer(options.headChars ?? 8_000, options.tailChars ?? 20_000)
      const active = new ActiveCommand(token, buffer, options.onOutput, (status, exitCode) => {
        clearTimeout(timer)
        options.signal?.removeEventListener('abort', onAbort)
        if (this.active === active) this.active = null
        if (status === 'timeout' || status === 'aborted') this.kill()
        resolve({
          status,
          exitCode,
          output: buffer.text(),
          totalChars: buffer.totalChars,
          omittedChars: buffer.omittedChars,
          durationMs: Date.now() - started,
        })
      })
      this.active = active
      const timer = setTimeout(() => active.finish('timeout', null), options.timeoutMs)
      const onAbort = () => active.finish('aborted', null)
      options.signal?.addEventListener('abort', onAbort, { once: true })
      child.stdin.write(`eval ${singleQuote(command)} < /dev/null\nprintf '\\n%s %d\\n' '${token}' "$?"\n`)
    })
  }

  private ensureStarted(): ChildProcessWithoutNullStreams {
    if (this.child !== null) return this.child
    if (!existsSync(this.options.cwd)) {
      throw new BerthError(
        'TOOL_FAILED',
        `The workspace folder ${this.options.cwd} does not exist, so no shell can start.`,
      )
    }
    const argv = [this.options.shell ?? 'bash', '--noprofile', '--norc']
    const launch = this.options.sandbox?.launch(argv, this.options.cwd) ?? { argv, cleanup: () => {} }
    const [program, ...args] = launch.argv
    const child = spawn(program as string, args, {
      cwd: this.options.cwd,
      env: this.options.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.child = child
    this.decoder = new StringDecoder('utf8')
    const decoder = this.decoder
    const onData = (chunk: Buffer) => {
      if (this.child === child) this.active?.feed(decoder.write(chunk))
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.stdin.on('error', () => undefined) // EPIPE when the shell died; 'exit' reports it
    child.once('close', launch.cleanup)
    child.on('error', (error) => this.onExit(child, null, error))
    child.on('exit', (code, signal) => this.onExit(child, code ?? (signal ? 128 : null)))
    // One stream, in the order the shell wrote it.
    child.stdin.write('exec 2>&1\n')
    live.add(this)
    installExitHook()
    return child
  }

  private onExit(child: ChildProcessWithoutNullStreams, code: number | null, error?: Error): void {
    if (this.child !== child) return
    this.child = null
    live.delete(this)
    const active = this.active
    if (active === null) return
    if (error !== undefined) active.feed(`\n[could not run the shell: ${error.message}]\n`)
    // Output still in the pipe arrives after 'exit'; give it a moment, but a
    // background job holding the pipe open must not stall the result.
    const done = () => active.finish('shell-exited', code)
    if (child.stdout.readableEnded) {
      done()
      return
    }
    const grace = setTimeout(done, 200)
    child.stdout.once('end', () => {
      clearTimeout(grace)
      done()
    })
  }

  private kill(): void {
    const child = this.child
    if (child === null) return
    this.child = null
    live.delete(this)
    killGroup(child)
  }
}

/** The bookkeeping of the command in flight: marker scanning, capture and live output. */
class ActiveCommand {
  private carry = ''
  private done = false

  constructor(
    private readonly token: string,
    private readonly buffer: HeadTailBuffer,
    private readonly onOutput: ((text: string) => void) | undefined,
    private readonly onDone: (status: ShellRunStatus, exitCode: number | null) => void,
  ) {}

  feed(text: string): void {
    if (this.done || text.length === 0) return
    const scan = this.carry + text
    const at = scan.indexOf(this.token)
    if (at === -1) {
      // Hold back enough to catch a token split across chunks, and the
      // newline printed before it.
      const keep = this.token.length + 1
      if (scan.length <= keep) {
        this.carry = scan
        return
      }
      this.emit(scan.slice(0, scan.length - keep))
      this.carry = scan.slice(scan.length - keep)
      return
    }
    const lineEnd = scan.indexOf('\n', at + this.token.length)
    const before = Math.max(0, at - 1)
    if (lineEnd === -1) {
      this.emit(scan.slice(0, before))
      this.carry = scan.slice(before)
      return
    }
    // The printf put a newline before the token; it is not the command's.
    this.emit(scan.slice(0, scan[before] === '\n' ? before : at))
    this.carry = ''
    const exitCode = Number.parseInt(scan.slice(at + this.token.length, lineEnd).trim(), 10)
    this.finish('exited', Number.isNaN(exitCode) ? null : exitCode)
  }

  /** Pass on what was held back (the shell is gone, no marker will come). */
  flush(): void {
    if (this.done) return
    this.emit(this.carry)
    this.carry = ''
  }

  finish(status: ShellRunStatus, exitCode: number | null): void {
    if (this.done) return
    if (status !== 'exited') this.flush()
    this.done = true
    this.onDone(status, exitCode)
  }

  private emit(text: string): void {
    if (text.length === 0) return
    this.buffer.push(text)
    this.onOutput?.(text)
  }
}

function singleQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`
}

function killGroup(child: ChildProcessWithoutNullStreams): void {
  const pid = child.pid
  if (pid !== undefined) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      try {
        child.kill('SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  child.stdin.destroy()
  child.stdout.destroy()
  child.stderr.destroy()
}

// Shells are detached (own process group), so they would outlive berth;
// kill them when the process exits normally.
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const shell of live) void shell.dispose()
  })
}

import { execFile } from 'node:child_process'
import { lstatSync, mkdtempSync, readlinkSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { BerthError } from '../../core/errors.js'
import { processAlive } from '../../core/process-alive.js'

/** BERTH_SANDBOX: `auto` uses bubblewrap when it runs here, `bubblewrap` requires it, `off` never uses it. */
export type SandboxSetting = 'auto' | 'bubblewrap' | 'off'

/** One process to start: its full argv (program first), and what to remove once it has exited. */
export interface ShellLaunch {
  argv: string[]
  /** Removes the sandbox's /tmp; call it once the process has exited (again is harmless). */
  cleanup(): void
}

/**
 * How the agent's shells are started: inside bubblewrap, seeing the system
 * read-only and only their own session's workspace, or on the host with the
 * server's permissions (secrets are kept out of their environment either way).
 *
 * @example
 *   const sandbox = await chooseSandbox('auto', { hidden: [dataRoot] })
 *   const launch = sandbox.launch(['bash', '--noprofile', '--norc'], workspaceDir)
 *   spawn(launch.argv[0], launch.argv.slice(1)).once('close', launch.cleanup)
 */
export interface ShellSandbox {
  readonly kind: 'bubblewrap' | 'host' | 'none'
  /** One sentence for the start-up log and `berth doctor`. */
  readonly description: string
  /** How to run `argv` for the workspace `workspaceDir`. */
  launch(argv: readonly string[], workspaceDir: string): ShellLaunch
}

/** The host, unwrapped: what `off` and a failed `auto` give. */
export function hostShell(description: string): ShellSandbox {
  return { kind: 'host', description, launch: (argv) => ({ argv: [...argv], cleanup: () => {} }) }
}

/**
 * For a command that runs no agent shell (readers, `berth import`): nothing
 * is probed at start, and a shell started by mistake fails instead of running
 * unconfined.
 */
export function noShell(command: string): ShellSandbox {
  return {
    kind: 'none',
    description: `${command} runs no agent shell.`,
    launch() {
      throw new BerthError('BASH_TOOL_UNAVAILABLE', `${command} runs no agent shell.`)
    },
  }
}

/** Read-only inside the sandbox: programs, libraries and system configuration (DNS, certificates, users). */
const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/run/systemd/resolve']
/** System files a shell has no business reading, even read-only (password hashes, host keys, /etc/berth/berth.env). */
const SYSTEM_SECRETS = ['/etc/shadow', '/etc/gshadow', '/etc/shadow-', '/etc/gshadow-', '/etc/sudoers']
const SYSTEM_SECRET_DIRS = ['/etc/ssh', '/etc/sudoers.d', '/etc/berth']

/** What a sandbox shows besides the system and the workspace, and what it hides. */
export interface SandboxView {
  /** Folders covered by empty ones (the data root): nothing in them is seen but the workspace. */
  hidden: readonly string[]
  /** More paths to show read-only (BERTH_SANDBOX_READONLY), e.g. a toolchain outside /usr. */
  readOnly?: readonly string[]
}

/**
 * bubblewrap's arguments for one workspace: a fresh root with the system
 * read-only, `scratch` as an empty /tmp (also HOME; on disk, not in memory,
 * as package caches go there), its own /proc and /dev, no view of other
 * processes, the network shared (installing packages needs it), the `hidden`
 * folders (the data root) covered by empty ones, and the workspace mounted
 * read-write at its own path, so paths mean the same inside and out.
 */
export function bubblewrapArgs(workspaceDir: string, view: SandboxView, scratch: string): string[] {
  const args = ['--die-with-parent', '--unshare-all', '--share-net']
  for (const dir of SYSTEM_PATHS) {
    const kind = entryKind(dir)
    if (kind === 'symlink') args.push('--symlink', readlinkSync(dir), dir)
    else if (kind !== null) args.push('--ro-bind', dir, dir)
  }
  for (const file of SYSTEM_SECRETS) if (entryKind(file) === 'file') args.push('--ro-bind', '/dev/null', file)
  for (const dir of SYSTEM_SECRET_DIRS) if (entryKind(dir) === 'dir') args.push('--tmpfs', dir)
  args.push('--proc', '/proc', '--dev', '/dev', '--bind', scratch, '/tmp')
  for (const extra of view.readOnly ?? []) args.push('--ro-bind', extra, extra)
  // After the read-only paths, so a data root inside one of them stays hidden.
  for (const dir of view.hidden) if (path.resolve(dir) !== '/') args.push('--tmpfs', path.resolve(dir))
  args.push('--bind', workspaceDir, workspaceDir, '--chdir', workspaceDir, '--setenv', 'HOME', '/tmp')
  return args
}

/**
 * The sandbox for this process's shells. With `auto` and `bubblewrap`,
 * `bwrap` is tried once with the real arguments (it fails where user
 * namespaces are off, e.g. in many containers); `auto` then falls back to
 * the host and says why, `bubblewrap` refuses with SANDBOX_UNAVAILABLE.
 *
 * @example
 *   const sandbox = await chooseSandbox(config.sandbox, { hidden: [root], readOnly: config.sandboxReadOnly })
 *   if (sandbox.kind === 'host') logger.warn(sandbox.description)
 */
export async function chooseSandbox(
  setting: SandboxSetting,
  options: SandboxView & { bwrap?: string },
): Promise<ShellSandbox> {
  if (setting === 'off') {
    return hostShell("The agent's shell runs on the host with the server's permissions (BERTH_SANDBOX=off).")
  }
  const missing = (options.readOnly ?? []).filter((extra) => entryKind(extra) === null)
  if (missing.length > 0) {
    throw new BerthError(
      'CONFIG_INVALID',
      `BERTH_SANDBOX_READONLY names ${missing.join(', ')}, which ${missing.length === 1 ? 'does' : 'do'} not exist. ` +
        'Fix or remove it.',
    )
  }
  const view: SandboxView = { hidden: options.hidden, readOnly: options.readOnly ?? [] }
  const bwrap = options.bwrap ?? 'bwrap'
  const failure = await probeBubblewrap(bwrap, view)
  if (failure === null) {
    return {
      kind: 'bubblewrap',
      description:
        "The agent's shell runs in bubblewrap: the system read-only, its own session's workspace, no other files.",
      launch: (argv, workspaceDir) => launchInBubblewrap(bwrap, view, argv, workspaceDir),
    }
  }
  if (setting === 'bubblewrap') {
    throw new BerthError(
      'SANDBOX_UNAVAILABLE',
      `BERTH_SANDBOX=bubblewrap, but bubblewrap cannot run here: ${failure}. Install it (apt-get install bubblewrap) ` +
        'and allow user namespaces, or set BERTH_SANDBOX=auto to run the shell on the host.',
    )
  }
  return hostShell(
    `bubblewrap cannot run here (${failure}), so the agent's shell runs on the host with the server's permissions. ` +
      'Install it (apt-get install bubblewrap) to confine the shell to its workspace, or set BERTH_SANDBOX=off to ' +
      'silence this warning.',
  )
}

/** `berth-shell-<pid of the berth that made it>-<random>` in the OS temp folder. */
const SCRATCH_PREFIX = 'berth-shell-'
const STALE_NAME = new RegExp(`^${SCRATCH_PREFIX}(\\d+)-`)

/**
 * Remove the shells' /tmp folders left by berth processes that are gone (a
 * SIGKILL gives them no chance to clean up). Folders of live processes stay:
 * another berth on this machine may be using them.
 */
export async function removeStaleScratch(): Promise<string[]> {
  const removed: string[] = []
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    const pid = Number(STALE_NAME.exec(name)?.[1] ?? Number.NaN)
    if (!Number.isInteger(pid) || processAlive(pid)) continue
    await rm(path.join(tmpdir(), name), { recursive: true, force: true }).catch(() => {})
    removed.push(name)
  }
  return removed
}

function launchInBubblewrap(
  bwrap: string,
  view: SandboxView,
  argv: readonly string[],
  workspaceDir: string,
): ShellLaunch {
  const scratch = mkdtempSync(path.join(tmpdir(), `${SCRATCH_PREFIX}${process.pid}-`))
  return {
    argv: [bwrap, ...bubblewrapArgs(workspaceDir, view, scratch), ...argv],
    cleanup: () => void rm(scratch, { recursive: true, force: true }).catch(() => {}),
  }
}

/** Run `true` in a sandbox around a scratch workspace: null when it works, else why not. */
async function probeBubblewrap(bwrap: string, view: SandboxView): Promise<string | null> {
  const workspace = await mkdtemp(path.join(tmpdir(), 'berth-sandbox-probe-'))
  const launch = launchInBubblewrap(bwrap, view, ['true'], workspace)
  try {
    return await new Promise((resolve) => {
      const [program, ...args] = launch.argv
      execFile(program as string, args, { timeout: 10_000 }, (error, _stdout, stderr) => {
        if (error === null) resolve(null)
        else if ((error as NodeJS.ErrnoException).code === 'ENOENT') resolve(`${bwrap} is not installed`)
        else resolve(`${bwrap} failed: ${stderr.trim() || error.message}`)
      })
    })
  } finally {
    launch.cleanup()
    await rm(workspace, { recursive: true, force: true })
  }
}

function entryKind(entry: string): 'symlink' | 'dir' | 'file' | null {
  try {
    const stats = lstatSync(entry)
    return stats.isSymbolicLink() ? 'symlink' : stats.isDirectory() ? 'dir' : 'file'
  } catch {
    return null
  }
}

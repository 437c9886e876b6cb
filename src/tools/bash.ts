import { z } from 'zod'
import { PersistentShell, type ShellRunResult } from './bash/persistent-shell.js'
import type { ShellSandbox } from './bash/sandbox.js'
import { shellEnv } from './bash/shell-env.js'
import { defineTool, type Tool, type ToolContext } from './tool.js'

export interface BashToolOptions {
  /** Default per-command timeout in seconds (BERTH_BASH_TIMEOUT). */
  timeoutSeconds: number
  /** Values to keep out of the shell's environment whatever their variable is called (configured API keys). */
  secretValues?: readonly (string | undefined)[]
  /** Longest live output per command sent through `emitTransient`, in characters. */
  liveOutputChars?: number
  /** Where the shells run (BERTH_SANDBOX); default the host. */
  sandbox?: ShellSandbox
}

/** Key of the session's shell in `ToolContext.resources`. */
export const SHELL_RESOURCE = 'bash.shell'

const LIVE_OUTPUT_CHARS = 1_000_000

const DESCRIPTION = `Run commands in a bash shell
* When invoking this tool, the contents of the "command" parameter does NOT need to be XML-escaped.
* State is persistent across command calls: the working directory, variables and functions stay.
* The shell starts in the workspace folder; keep the files you make inside it.
* Commands have no input (stdin is empty), so interactive programs will not work: pass flags such as -y instead.
* To inspect a particular line range of a file, e.g. lines 10-25, try 'sed -n 10,25p path/to/the/file'.
* Please avoid commands that may produce a very large amount of output: long output is cut to its start and end.
* Each command has a timeout; when it passes, the command and everything it started are killed and the shell restarts.
* Please run long lived commands in the background, e.g. 'python -m http.server 8080 > server.log 2>&1 &'.`

/** Told to the model when the shell runs in bubblewrap, so it keeps its work where it lasts. */
const SANDBOX_NOTE = `
* The shell runs in a sandbox: the workspace folder is the only place it can write that is kept. /tmp (also HOME) is scratch, emptied when the shell restarts; the rest of the system is read-only, and files outside the workspace are not visible.`

const parameters = z.object({
  command: z.string().describe('The bash command to run.'),
  timeout: z
    .preprocess(
      (v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v),
      z.number().positive(),
    )
    .optional()
    .describe('Seconds to wait before the command is killed; default from the server (120 unless configured).'),
})

/**
 * The `bash` tool: a persistent shell per session (kept in
 * `context.resources`), cwd = the workspace, output streamed live through
 * `emitTransient` and captured head + tail, exit code reported.
 *
 * @example
 *   const bash = createBashTool({ timeoutSeconds: config.bashTimeout })
 *   await runTool(bash, { command: 'npm test', timeout: 300 }, context)
 */
export function createBashTool(options: BashToolOptions): Tool<z.output<typeof parameters>> {
  const maxTimeout = Math.max(options.timeoutSeconds, 1800)
  return defineTool({
    name: 'bash',
    description: options.sandbox?.kind === 'bubblewrap' ? DESCRIPTION + SANDBOX_NOTE : DESCRIPTION,
    parameters,
    async execute(input, context) {
      const shell = sessionShell(context, options)
      const seconds = Math.min(input.timeout ?? options.timeoutSeconds, maxTimeout)
      const result = await shell.run(input.command, {
        timeoutMs: Math.round(seconds * 1000),
        signal: context.signal,
        onOutput: liveOutput(context, options.liveOutputChars ?? LIVE_OUTPUT_CHARS),
      })
      return formatResult(result, seconds)
    },
  })
}

function sessionShell(context: ToolContext, options: BashToolOptions): PersistentShell {
  return context.resources.get(
    SHELL_RESOURCE,
    () =>
      new PersistentShell({
        cwd: context.workspaceDir,
        env: shellEnv(process.env, options.secretValues ?? []),
        ...(options.sandbox === undefined ? {} : { sandbox: options.sandbox }),
      }),
    (shell) => shell.dispose(),
  )
}

/** Forward output live, up to a budget per command, then say once that the rest comes with the result. */
function liveOutput(context: ToolContext, budget: number): (text: string) => void {
  let sent = 0
  let noticeSent = false
  return (text) => {
    if (sent < budget) {
      const part = text.length <= budget - sent ? text : text.slice(0, budget - sent)
      sent += part.length
      context.emitTransient(part)
    } else if (!noticeSent) {
      noticeSent = true
      context.emitTransient('\n[... live output stops here; the end of the output comes with the result ...]\n')
    }
  }
}

function formatResult(result: ShellRunResult, seconds: number): { output: string; isError?: boolean } {
  const output = result.output
  const withNote = (note: string) => (output.length > 0 ? `${output}${output.endsWith('\n') ? '' : '\n'}${note}` : note)
  switch (result.status) {
    case 'exited':
      if (result.exitCode === 0) return { output: output.length > 0 ? output : '(no output)' }
      return { output: withNote(`[exit code: ${result.exitCode ?? 'unknown'}]`) }
    case 'timeout':
      return {
        output: withNote(
          `[Command timed out after ${seconds} s and was killed with everything it started. ` +
            'The shell was restarted in the workspace folder: earlier cd and variables are gone. ' +
            "Run long jobs in the background (e.g. 'cmd > log.txt 2>&1 &') or pass a larger timeout.]",
        ),
        isError: true,
      }
    case 'aborted':
      return { output: withNote('[Command cancelled: it was killed with everything it started.]'), isError: true }
    case 'shell-exited':
      return {
        output: withNote(
          `[The shell exited (code ${result.exitCode ?? 'unknown'}). ` +
            'The next command starts a new shell in the workspace folder, with fresh variables.]',
        ),
        isError: result.exitCode !== 0,
      }
  }
}

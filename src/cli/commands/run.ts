import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { createRunManager } from '../../agent/create-run-manager.js'
import type { AgentRunManager } from '../../agent/run-manager.js'
import type { RunOutcome } from '../../agent/runs.js'
import { BerthError } from '../../core/errors.js'
import { newId } from '../../core/ids.js'
import { openRuntime, type Runtime } from '../../runtime/runtime.js'
import { inspectRootLock } from '../../storage/root-lock.js'
import type { StoredEvent } from '../../store/types.js'
import { configFor } from '../options.js'
import { action } from '../run-command.js'

/** The device id of sessions made by `berth run`, so the UI lists them apart. */
export const CLI_DEVICE_ID = 'cli'

interface RunOptions {
  session?: string
  model?: string
  provider?: string
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Run one task and print its answer; without a task, start an interactive prompt')
    .argument('[task...]', 'the task, e.g. berth run "make a page about otters"')
    .option('--session <id>', 'continue an earlier session, with its full history')
    .option('--model <id>', 'model to use (default: BERTH_MODEL); provider:model pins the provider')
    .option('--provider <name>', 'provider for the model: chutes, openrouter, openai, anthropic or moonshot')
    .action(
      action(async (words: string[], options: RunOptions, command: Command) => {
        const config = configFor(command)
        const runtime = await openRuntime(config, { role: 'writer', command: 'berth run', terminalLogs: false })
        const runs = createRunManager(runtime)
        try {
          const sessionId = await openSession(runtime, options.session)
          const task = words.join(' ').trim()
          const cli = new CliRun(runtime, runs, sessionId, options)
          const code = task.length > 0 ? await cli.once(task) : await cli.interactive()
          process.stderr.write(`session ${sessionId} (continue with: berth run --session ${sessionId})\n`)
          return code
        } finally {
          await runs.shutdown()
          await runtime.close()
        }
      }),
    )
}

/** The session to run in: an existing one (refused while a server runs it), or a new `cli` session. */
async function openSession(runtime: Runtime, id: string | undefined): Promise<string> {
  const { store, workspaces, storage } = runtime
  if (id === undefined) {
    const sessionId = newId()
    await store.createSession({ id: sessionId, workspaceDir: workspaces.dirFor(sessionId), deviceId: CLI_DEVICE_ID })
    await workspaces.create(sessionId)
    return sessionId
  }
  const session = await store.getSession(id)
  if (session === null) {
    throw new BerthError('SESSION_NOT_FOUND', `No session ${id} in ${storage.paths.database}.`)
  }
  if (session.status === 'running' && inspectRootLock(storage.paths.root).locked) {
    throw new BerthError('QUERY_IN_PROGRESS', `Session ${id} is running in the server right now; wait or cancel it.`)
  }
  return id
}

class CliRun {
  constructor(
    private readonly runtime: Runtime,
    private readonly runs: AgentRunManager,
    private readonly sessionId: string,
    private readonly options: RunOptions,
  ) {}

  /** One task: progress on stderr, the answer on stdout; 0 when it completed. */
  async once(task: string): Promise<number> {
    const stopOnSignal = () => void this.runs.cancel(this.sessionId)
    process.once('SIGINT', stopOnSignal)
    try {
      const outcome = await this.run(task, false)
      if (outcome.status === 'completed' && outcome.answer !== null) process.stdout.write(`${outcome.answer}\n`)
      return outcome.status === 'completed' ? 0 : 1
    } finally {
      process.removeListener('SIGINT', stopOnSignal)
    }
  }

  /** A prompt: each line is a query in the same session; `exit`, `quit` or end of input leaves. */
  async interactive(): Promise<number> {
    const lines = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY })
    let running = false
    lines.on('SIGINT', () => {
      if (running) void this.runs.cancel(this.sessionId)
      else lines.close()
    })
    let failures = 0
    const ask = () => process.stdin.isTTY && lines.prompt()
    lines.setPrompt('berth> ')
    ask()
    for await (const line of lines) {
      const task = line.trim()
      if (task === 'exit' || task === 'quit') break
      if (task.length === 0) {
        ask()
        continue
      }
      running = true
      const outcome = await this.run(task, true)
      running = false
      if (outcome.status !== 'completed') failures++
      ask()
    }
    lines.close()
    return failures === 0 ? 0 : 1
  }

  /** Start one run and follow its stored events (and, when streaming, its text) until it ends. */
  private async run(task: string, stream: boolean): Promise<RunOutcome> {
    const { store } = this.runtime
    let streamed = ''
    const stopTransient = this.runs.onTransient(this.sessionId, (event) => {
      if (!stream || event.type !== 'agent_response_delta') return
      streamed += event.content.text
      process.stdout.write(event.content.text)
    })
    const after = await lastSeq(this.runtime, this.sessionId)
    const follow = store.follow(this.sessionId, after, (event) => {
      const line = progressLine(event)
      if (line === null) return
      if (stream && streamed.length > 0 && !streamed.endsWith('\n')) process.stdout.write('\n')
      streamed = ''
      process.stderr.write(`${line}\n`)
    })
    try {
      await this.runs.start({
        sessionId: this.sessionId,
        text: task,
        deviceId: CLI_DEVICE_ID,
        ...(this.options.model === undefined ? {} : { modelId: this.options.model }),
        ...(this.options.provider === undefined ? {} : { providerHint: this.options.provider }),
      })
      const outcome = (await this.runs.wait(this.sessionId)) as RunOutcome
      if (stream) {
        // A final answer given through `complete` was not streamed as text.
        if (outcome.answer !== null && !streamed.includes(outcome.answer)) process.stdout.write(outcome.answer)
        if (outcome.answer !== null || streamed.length > 0) process.stdout.write('\n')
      }
      return outcome
    } finally {
      stopTransient()
      follow.close()
    }
  }
}

async function lastSeq(runtime: Runtime, sessionId: string): Promise<number> {
  let after = 0
  for (;;) {
    const page = await runtime.store.readEvents(sessionId, { after, limit: 10_000 })
    after = page.events.at(-1)?.seq ?? after
    if (page.nextAfter === null) return after
  }
}

/** One stderr line per tool call and per failure; null for events that need none. */
function progressLine(event: StoredEvent): string | null {
  if (event.type !== 'tool_call' && event.type !== 'error' && event.type !== 'agent_response_interrupted') return null
  const { content } = JSON.parse(event.payload) as { content: Record<string, unknown> }
  switch (event.type) {
    case 'tool_call':
      return `· ${String(content.tool_name)} ${oneLine(JSON.stringify(content.tool_input ?? {}), 100)}`
    case 'error':
      return `berth: ${String(content.message)} (${String(content.error_code)})`
    default:
      return `berth: the run was ${content.reason === 'shutdown' ? 'stopped' : 'cancelled'}`
  }
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ')
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

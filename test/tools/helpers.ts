import { randomUUID } from 'node:crypto'
import { realpath } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import type { AgentEvent } from '../../src/core/events.js'
import { createSessionResources, type DisposableSessionResources } from '../../src/tools/session-resources.js'
import type { ToolContext } from '../../src/tools/tool.js'
import { Workspaces } from '../../src/workspace/workspaces.js'
import { tempDir } from '../helpers/temp-dir.js'

export interface FakeToolContext extends ToolContext {
  /** Stored events, in the order the tool emitted them. */
  events: AgentEvent[]
  /** Live output, concatenated. */
  transient: () => string
  controller: AbortController
  resources: DisposableSessionResources
  /** Data root's `workspace/` folder and a folder next to it that is outside every workspace. */
  root: string
  outside: string
}

/**
 * A real workspace in a temp dir and a ToolContext that records what the
 * tool emits. Dispose `context.resources` after the test (kills the shell).
 */
export async function makeToolContext(
  opts: { publicUrl?: string; quotaBytes?: number | null } = {},
): Promise<FakeToolContext> {
  const tmp = await realpath(await tempDir('berth-tools-'))
  const root = path.join(tmp, 'workspace')
  const outside = path.join(tmp, 'outside')
  const workspaces = new Workspaces({ root, quotaBytes: opts.quotaBytes ?? null })
  const sessionId = randomUUID()
  const workspaceDir = await workspaces.create(sessionId)
  const events: AgentEvent[] = []
  const chunks: string[] = []
  const controller = new AbortController()
  return {
    sessionId,
    workspaceDir,
    workspaces,
    signal: controller.signal,
    controller,
    async emit(event) {
      events.push(event)
    },
    emitTransient(text) {
      chunks.push(text)
    },
    transient: () => chunks.join(''),
    events,
    publicUrl: opts.publicUrl ?? 'https://berth.example.com',
    resources: createSessionResources(),
    logger: pino({ level: 'silent' }),
    toolCallId: 'call_1',
    root,
    outside,
  }
}

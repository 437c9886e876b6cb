import type { z } from 'zod'
import type { AgentEvent } from '../core/events.js'
import type { Logger } from '../logging/logger.js'
import type { Workspaces } from '../workspace/workspaces.js'

/**
 * Per-session things a tool keeps between calls (a persistent shell, undo
 * history). Created on first use; disposed when the session's agent is
 * unloaded or the server stops.
 */
export interface SessionResources {
  get<T>(key: string, create: () => T, dispose?: (value: T) => void | Promise<void>): T
}

export interface ToolContext {
  sessionId: string
  /** Absolute path of the session's workspace folder. */
  workspaceDir: string
  /** The one door to the file system: resolve every path through `workspaces.resolve(sessionId, path)`. */
  workspaces: Workspaces
  /** Aborted on cancel, timeout or shutdown; tools stop promptly and kill what they started. */
  signal: AbortSignal
  /** Persist (then publish) an event of this run, e.g. `file_edit`. */
  emit(event: AgentEvent): Promise<void>
  /** Send live-only output (e.g. a shell command's output as it arrives); never stored. */
  emitTransient(text: string): void
  /** Base of public URLs, e.g. `https://berth.example.com`; never `0.0.0.0`. */
  publicUrl: string
  resources: SessionResources
  logger: Logger
  /** The call's id, as in the `tool_call` event. */
  toolCallId: string
}

/** An image a tool returns: a file in the session's workspace, never its bytes. */
export interface ToolImage {
  /** Workspace-relative, e.g. `screenshots/step-3.png`. */
  path: string
  /** As recognised by the file's first bytes (`checkImage` in src/agent/image-attachments.ts). */
  mediaType: string
}

export interface ToolResult {
  /** Fed back to the model and stored as `tool_result.result`. */
  output: string
  isError?: boolean
  /**
   * Images for the model to see, stored as `tool_result.images` (paths only).
   * A tool that makes an image keeps it in the workspace first with
   * `saveToolImage` (tool-images.ts: the one door, atomic, within the quota).
   */
  images?: ToolImage[]
  /** Set by `complete`: the run ends with this answer. */
  finalAnswer?: string
}

/**
 * A tool: a described zod schema of its input plus one function.
 * Validation and output truncation live once in `runTool`, not in each tool.
 */
export interface Tool<Input = unknown> {
  name: string
  description: string
  parameters: z.ZodType<Input>
  execute(input: Input, context: ToolContext): Promise<ToolResult>
}

export function defineTool<Input>(tool: Tool<Input>): Tool<Input> {
  return tool
}

import { createHash } from 'node:crypto'
import { isBerthError } from '../../core/errors.js'
import type { LlmMessage, LlmToolCall } from '../../llm/types.js'
import type { Logger } from '../../logging/logger.js'
import type { WorkspaceKey, WorkspaceStorage } from '../../workspace/workspace-storage.js'
import {
  type ContextManager,
  DEFAULT_KEEP_TURNS,
  DEFAULT_TOKEN_BUDGET,
  TRUNCATED_TOOL_OUTPUT_MSG,
  truncateToolInputs,
} from './context-manager.js'
import { estimateHistoryTokens, estimateTokens } from './token-estimator.js'
import { turnIndexes } from './turns.js'

/** Outputs at least this long (estimated tokens) are moved to memory files; the reference used 1499. */
export const DEFAULT_MIN_TOKENS_TO_SAVE = 1500
export const MEMORY_DIR = 'agent_memory'
const HASH_LENGTH = 10

/** Tool inputs the file-based manager drops from old turns when long (as the reference's `file_based.py`). */
export const FILE_BASED_INPUT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  sequential_thinking: ['thought'],
  str_replace_editor: ['file_text', 'old_str', 'new_str'],
  bash: ['command'],
}

/** The pointer left in place of a saved output. @example savedPointer('example_com_a1b2c3d4e5.txt') */
export function savedPointer(file: string): string {
  return `[Truncated...content saved to ${MEMORY_DIR}/${file}. You can view it if needed.]`
}

export interface FileBasedContextManagerOptions {
  /** The workspace storage; `apply`'s second argument is the workspace key (the session id). */
  storage: Pick<WorkspaceStorage, 'stat' | 'write'>
  tokenBudget?: number
  keepTurns?: number
  minTokensToSave?: number
  logger?: Logger
}

/**
 * The `file-based` context manager (berth's default, as the reference
 * server's): over budget, each tool output of at least `minTokensToSave`
 * tokens in turns older than the last `keepTurns` is written once to
 * `agent_memory/<name>_<sha256[:10]>.txt` in the session's workspace
 * (through the workspace storage, within its quota) and replaced by a pointer
 * the agent can open with `str_replace_editor view`. `<name>` is the page's
 * domain and path for `visit_webpage`, else the tool's name. Long thoughts,
 * editor texts and shell commands in old tool calls are dropped.
 *
 * Files are named by their content's hash, so running it again on the same
 * history writes nothing new and returns the same messages.
 *
 * @example
 *   const manager = createFileBasedContextManager({ storage, tokenBudget: 120_000 })
 *   const forModel = await manager.apply(history, sessionId)
 */
export function createFileBasedContextManager(options: FileBasedContextManagerOptions): ContextManager {
  const tokenBudget = options.tokenBudget ?? DEFAULT_TOKEN_BUDGET
  const keepTurns = Math.max(1, options.keepTurns ?? DEFAULT_KEEP_TURNS)
  const minTokens = options.minTokensToSave ?? DEFAULT_MIN_TOKENS_TO_SAVE
  return {
    kind: 'file-based',
    tokenBudget,
    async apply(messages, sessionId) {
      if (estimateHistoryTokens(messages) <= tokenBudget) return [...messages]
      const { turnOf, count } = turnIndexes(messages)
      const cut = count - keepTurns
      const calls = callsById(messages)
      const out: LlmMessage[] = []
      for (const [i, message] of messages.entries()) {
        if ((turnOf[i] ?? 0) >= cut) {
          out.push(message)
        } else if (message.role === 'tool' && estimateTokens(message.content) >= minTokens) {
          const name = memoryFileName(message.toolName, message.content, calls.get(message.toolCallId))
          const saved = await saveOnce(options, sessionId, name, message.content)
          out.push({ ...message, content: saved ? savedPointer(name) : TRUNCATED_TOOL_OUTPUT_MSG })
        } else if (message.role === 'assistant') {
          out.push(truncateToolInputs(message, FILE_BASED_INPUT_FIELDS, (v) => estimateTokens(v) >= minTokens))
        } else {
          out.push(message)
        }
      }
      return out
    },
  }
}

/**
 * The memory file's name: `<domain>_<path>_<hash>.txt` for a visited page
 * (as the reference names them), `<tool>_<hash>.txt` otherwise.
 *
 * @example
 *   memoryFileName('visit_webpage', text, { id: 'c1', name: 'visit_webpage', input: { url: 'https://example.com/a/b' } })
 *   // 'example_com_a_b_<10 hex>.txt'
 */
export function memoryFileName(toolName: string, content: string, call?: LlmToolCall): string {
  const hash = createHash('sha256').update(content, 'utf8').digest('hex').slice(0, HASH_LENGTH)
  const url = urlOf(call)
  if (toolName === 'visit_webpage' && url !== null) {
    const parts = url.replace(/^https?:\/\//i, '').split('/')
    const domain = sanitize(parts[0] ?? '', 20)
    const rest = sanitize(parts.slice(1).join('_'), 30)
    const stem = [domain, rest].filter((s) => s !== '').join('_')
    if (stem !== '') return `${stem}_${hash}.txt`
  }
  return `${sanitize(toolName, 40) || 'tool'}_${hash}.txt`
}

function urlOf(call: LlmToolCall | undefined): string | null {
  const input = call?.input
  if (input === null || typeof input !== 'object') return null
  const url = (input as Record<string, unknown>).url
  return typeof url === 'string' && url.trim() !== '' ? url.trim() : null
}

function sanitize(text: string, max: number): string {
  return text
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, max)
}

function callsById(messages: readonly LlmMessage[]): Map<string, LlmToolCall> {
  const calls = new Map<string, LlmToolCall>()
  for (const message of messages) {
    if (message.role === 'assistant') for (const call of message.toolCalls) calls.set(call.id, call)
  }
  return calls
}

/** Write the memory file unless it exists (same name = same content). False when it cannot be written. */
async function saveOnce(
  options: FileBasedContextManagerOptions,
  sessionId: WorkspaceKey,
  name: string,
  content: string,
): Promise<boolean> {
  const relative = `${MEMORY_DIR}/${name}`
  try {
    const existing = await options.storage.stat(sessionId, relative)
    if (existing?.type === 'file') return true
    await options.storage.write(sessionId, relative, content)
    return true
  } catch (error) {
    // A full or missing workspace must not stop the run: the output is then
    // dropped the way the standard manager drops it.
    options.logger?.warn(
      { err: error, sessionId, file: relative, code: isBerthError(error) ? error.code : undefined },
      'could not save old tool output to agent memory; truncating it instead',
    )
    return false
  }
}

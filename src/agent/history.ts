import type { LlmMessage, LlmToolCall } from '../llm/types.js'
import type { Store } from '../store/store.js'
import type { StoredEvent } from '../store/types.js'

/** What a tool call whose result never got stored (cancel, shutdown, crash) reads as in the rebuilt history. */
export const INTERRUPTED_RESULT = 'Interrupted: the run stopped before this tool call finished, so it has no result.'

const EVENT_PAGE = 5000

/**
 * The message history the model sees, built event by event from the log.
 * The loop feeds it each event it stores, and a restart feeds it the stored
 * events, so both see the same history by construction.
 *
 * Mapping: `user_message` → user; `agent_response` / `agent_message` text and the `tool_call`s
 * that follow it → one assistant message; `tool_result` → tool message
 * (its `images` are paths, read from the workspace before each model call).
 * `agent_thinking` (reasoning) is not sent back to models, but ends the
 * current assistant message. A call left without a result (interrupt, error,
 * crash) gets a synthetic `INTERRUPTED_RESULT`, so every provider accepts it.
 *
 * @example
 *   const history = new HistoryBuilder()
 *   history.add('user_message', { text: 'hi' })
 *   history.messages() // [{ role: 'user', content: 'hi' }]
 */
export class HistoryBuilder {
  private readonly done: LlmMessage[] = []
  /** Where the last user message sits in `done`, so `query_edited` can take that exchange back. */
  private lastUserIndex = -1
  /** The assistant message being assembled, with its calls' results held until it is complete. */
  private assistant: { text: string; toolCalls: LlmToolCall[] } | null = null
  private results: LlmMessage[] = []
  private readonly open = new Map<string, string>()
  /** The files each user message came with (`user_message.files`), and the images of each tool result, for `attachedFiles`. */
  private readonly files = new WeakMap<LlmMessage, readonly string[]>()
  private afterResult = false
  private unnamed = 0

  /** Feed one stored event (its type and parsed content). Unknown types are ignored. */
  add(type: string, content: unknown): void {
    const c = (content ?? {}) as Record<string, unknown>
    switch (type) {
      case 'user_message':
        this.endStep()
        this.lastUserIndex = this.done.length
        this.done.push(this.userMessage(c))
        return
      case 'query_edited':
        // The user edited their last query: that exchange leaves the history (the log keeps it).
        this.endStep()
        if (this.lastUserIndex >= 0) this.done.splice(this.lastUserIndex)
        this.lastUserIndex = -1
        return
      case 'agent_response':
      case 'agent_message':
        this.addText(str(c.text))
        return
      case 'tool_call':
        this.addCall(c)
        return
      case 'tool_result':
        this.addResult(c)
        return
      case 'agent_thinking':
        // Reasoning is not replayed, but it marks the start of a new model step.
        this.endStep()
        return
      case 'agent_response_interrupted':
        this.endStep()
        if (str(c.text).length > 0) this.addText(str(c.text))
        this.endStep()
        return
      case 'error':
      case 'stream_complete':
        this.endStep()
        return
    }
  }

  /** A valid history right now: calls still open get a synthetic interrupted result (the builder is not changed). */
  messages(): LlmMessage[] {
    if (this.assistant === null) return this.done.slice()
    return [...this.done, ...this.pendingMessages()]
  }

  /**
   * The workspace-relative files a user message of `messages()` was sent
   * with, or the images a tool result returned (`tool_result.images`); none
   * for other messages. `ImageAttachments` reads and attaches them.
   */
  attachedFiles(message: LlmMessage): readonly string[] {
    return this.files.get(message) ?? []
  }

  /** True when the last stored step has calls without results. */
  get hasOpenCalls(): boolean {
    return this.open.size > 0
  }

  /** The user's text plus the attached files, listed the way the reference agent lists them. */
  private userMessage(c: Record<string, unknown>): LlmMessage {
    const files = attachedFileList(c)
    const message: LlmMessage = {
      role: 'user',
      content:
        files.length === 0
          ? str(c.text)
          : `${str(c.text)}\n\nAttached files:\n${files.map((file) => ` - ${file}`).join('\n')}`,
    }
    if (files.length > 0) this.files.set(message, files)
    return message
  }

  private addText(text: string): void {
    if (text.length === 0) return
    if (this.assistant !== null && (this.assistant.toolCalls.length > 0 || this.afterResult)) this.endStep()
    if (this.assistant === null) this.assistant = { text, toolCalls: [] }
    else this.assistant.text = this.assistant.text.length > 0 ? `${this.assistant.text}\n\n${text}` : text
  }

  private addCall(c: Record<string, unknown>): void {
    // A call right after a result starts a new assistant message. That is
    // exact for the reference agent (one call per step) and for berth's
    // single-call steps; parallel calls of one step replay as consecutive
    // steps, which every provider accepts.
    if (this.afterResult) this.endStep()
    this.assistant ??= { text: '', toolCalls: [] }
    // Recorded JSON-mode calls may lack an id; providers need one.
    const id = str(c.tool_call_id) || `call_unnamed_${++this.unnamed}`
    // The reference's native mode could record a call twice; a provider refuses duplicate ids.
    if (this.assistant.toolCalls.some((call) => call.id === id)) return
    const call: LlmToolCall = { id, name: str(c.tool_name), input: c.tool_input ?? {} }
    if (typeof c.tool_input === 'string' && c.input_error !== undefined) call.inputError = str(c.input_error)
    this.assistant.toolCalls.push(call)
    this.open.set(call.id, call.name)
  }

  private addResult(c: Record<string, unknown>): void {
    const id = str(c.tool_call_id) || this.firstOpenNamed(str(c.tool_name))
    // A result without a stored call cannot be sent to any provider; it is dropped.
    if (id === undefined || !this.open.has(id)) return
    this.open.delete(id)
    this.afterResult = true
    const message: LlmMessage = {
      role: 'tool',
      toolCallId: id,
      toolName: str(c.tool_name) || (this.toolName(id) ?? ''),
      content: resultText(c.result),
      ...(c.is_error === true ? { isError: true } : {}),
    }
    const images = resultImageList(c)
    if (images.length > 0) this.files.set(message, images)
    this.results.push(message)
  }

  private firstOpenNamed(name: string): string | undefined {
    for (const [id, openName] of this.open) if (openName === name) return id
    return undefined
  }

  private toolName(id: string): string | undefined {
    return this.assistant?.toolCalls.find((call) => call.id === id)?.name
  }

  /** The current assistant message plus its results, with synthetic results for open calls. */
  private pendingMessages(): LlmMessage[] {
    const assistant = this.assistant
    if (assistant === null) return []
    const synthetic: LlmMessage[] = [...this.open].map(([id, name]) => ({
      role: 'tool',
      toolCallId: id,
      toolName: name,
      content: INTERRUPTED_RESULT,
      isError: true,
    }))
    return [
      { role: 'assistant', text: assistant.text, toolCalls: assistant.toolCalls.slice() },
      ...this.results,
      ...synthetic,
    ]
  }

  /** Finish the assistant message, closing its open calls with synthetic results. */
  private endStep(): void {
    if (this.assistant === null) return
    this.done.push(...this.pendingMessages())
    this.assistant = null
    this.results = []
    this.open.clear()
    this.afterResult = false
  }
}

/**
 * The history of a list of stored events (any number, in `seq` order),
 * including events recorded by the Python ii-agent.
 *
 * @example
 *   const messages = rebuildHistory(await readAllEvents(store, sessionId))
 */
export function rebuildHistory(events: readonly StoredEvent[]): LlmMessage[] {
  const builder = new HistoryBuilder()
  for (const event of events) feedStored(builder, event)
  return builder.messages()
}

/** Feed a stored event to a builder; an unparsable payload is skipped (it cannot be replayed anyway). */
export function feedStored(builder: HistoryBuilder, event: StoredEvent): void {
  let parsed: { content?: unknown }
  try {
    parsed = JSON.parse(event.payload) as { content?: unknown }
  } catch {
    return
  }
  builder.add(event.type, parsed?.content)
}

/**
 * Every stored event of a session, page by page (no cap on the total).
 *
 * @example
 *   const events = await readAllEvents(store, sessionId)
 */
export async function readAllEvents(store: Store, sessionId: string): Promise<StoredEvent[]> {
  const all: StoredEvent[] = []
  let after = 0
  for (;;) {
    const page = await store.readEvents(sessionId, { after, limit: EVENT_PAGE })
    all.push(...page.events)
    if (page.nextAfter === null) return all
    after = page.nextAfter
  }
}

/** A `user_message`'s files: its strings, in order (anything else a client stored is ignored). */
function attachedFileList(c: Record<string, unknown>): string[] {
  return Array.isArray(c.files) ? c.files.filter((f): f is string => typeof f === 'string' && f.length > 0) : []
}

/** A `tool_result`'s image paths (`images: [{ path, media_type }]`); entries of another shape are ignored. */
function resultImageList(c: Record<string, unknown>): string[] {
  if (!Array.isArray(c.images)) return []
  return c.images.flatMap((image) => {
    const path = (image as { path?: unknown } | null)?.path
    return typeof path === 'string' && path.length > 0 ? [path] : []
  })
}

/** A stored result as text: a string as is, the reference's list of blocks as their text, anything else as JSON. */
export function resultText(result: unknown): string {
  if (typeof result === 'string') return result
  if (Array.isArray(result)) {
    return result
      .map((block) => {
        const b = block as Record<string, unknown> | null
        if (typeof b === 'string') return b
        if (b && typeof b.text === 'string') return b.text
        if (b && (b.type === 'image' || b.source !== undefined)) return '[image]'
        return JSON.stringify(b)
      })
      .join('\n')
  }
  if (result === undefined || result === null) return ''
  return JSON.stringify(result)
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value)
}

import type { Frame } from '../lib/api-types.js'
import { deployUrlOf } from '../lib/deploy-url.js'
import { type ChatItem, type ChatState, normalisePath, type ToolCard, type ToolImageRef } from './chat-state.js'

type Draft = ChatState
type Content = Record<string, unknown>

/**
 * Fold frames (stored events with `seq`, and live-only frames: deltas,
 * `processing`, errors, and a run's end the server could not store, marked
 * `stored: false`) into chat items. Stored events at or below
 * `lastSeq` are dropped, so a history page and a socket resumed with
 * `after=` can overlap without duplicates; deltas build a streaming item
 * that the stored event's final text replaces. The array is copied once per
 * batch, so replaying thousands of events stays linear.
 *
 * @example
 *   const state = applyFrames(emptyChat, [{ type: 'user_message', seq: 1, content: { text: 'hi' } }])
 *   state.items[0] // { kind: 'user', text: 'hi', seq: 1, … }
 */
export function applyFrames(state: ChatState, frames: readonly Frame[]): ChatState {
  const draft: Draft = {
    ...state,
    items: state.items.slice(),
    toolIndex: new Map(state.toolIndex),
    files: new Map(state.files),
  }
  for (const frame of frames) applyFrame(draft, frame)
  return draft
}

/** Show what the user just sent before the server confirms it (the sender's own `user_message` is not echoed). */
export function addLocalUserMessage(state: ChatState, text: string, files: string[]): ChatState {
  const draft = applyFrames(state, [])
  draft.items.push({ kind: 'user', key: localKey(draft), seq: null, text, files, delivery: 'sending' })
  return draft
}

function applyFrame(draft: Draft, frame: Frame): void {
  if (typeof frame.seq === 'number') {
    if (frame.seq <= draft.lastSeq) return
    draft.lastSeq = frame.seq
    if (frame.timestamp) draft.lastEventAt = frame.timestamp
  }
  const content = (frame.content ?? {}) as Content
  const seq = typeof frame.seq === 'number' ? frame.seq : null
  // Heartbeat, pong, workspace_info, agent_initialized and unknown types have no handler: nothing to show.
  HANDLERS[frame.type]?.(draft, content, seq)
}

type Handler = (draft: Draft, content: Content, seq: number | null) => void

/** One named handler per frame type. */
const HANDLERS: Record<string, Handler> = {
  user_message: onUserMessage,
  agent_thinking_delta: (draft, content) => appendStreaming(draft, 'thinking', text(content.text)),
  agent_response_delta: (draft, content) => appendStreaming(draft, 'assistant', text(content.text)),
  agent_thinking: (draft, content, seq) => finishStreaming(draft, 'thinking', text(content.text), seq),
  agent_response: (draft, content, seq) => finishStreaming(draft, 'assistant', text(content.text), seq),
  agent_message: (draft, content, seq) => finishStreaming(draft, 'assistant', text(content.text), seq),
  agent_response_interrupted: onInterrupted,
  tool_call: onToolCall,
  tool_output_delta: (draft, content) =>
    updateTool(draft, text(content.tool_call_id), (tool) => ({ ...tool, output: tool.output + text(content.text) })),
  tool_result: onToolResult,
  file_edit: onFileEdit,
  system: (draft, content, seq) => pushNotice(draft, 'info', text(content.message), null, seq),
  error: onError,
  processing: (draft) => {
    draft.running = true
    markSending(draft, 'sent')
  },
  stream_complete: (draft, content) => {
    draft.running = false
    closeOpenItems(draft, text(content.status) === 'completed' ? 'done' : 'interrupted')
  },
  connection_established: (draft, content) => {
    draft.running = content.running === true
  },
}

function onUserMessage(draft: Draft, content: Content, seq: number | null): void {
  const message = text(content.text)
  const files = Array.isArray(content.files) ? content.files.filter((f): f is string => typeof f === 'string') : []
  // A reconnect can deliver our own message after all: it confirms the local copy instead of doubling it.
  const local = draft.items.findIndex((item) => item.kind === 'user' && item.seq === null && item.text === message)
  const item = local >= 0 ? draft.items[local] : undefined
  if (item?.kind === 'user') {
    draft.items[local] = { ...item, seq, delivery: 'sent' }
    return
  }
  draft.items.push({ kind: 'user', key: keyFor(draft, seq), seq, text: message, files, delivery: 'sent' })
}

function findStreaming(draft: Draft, kind: 'assistant' | 'thinking'): number {
  for (let i = draft.items.length - 1; i >= 0; i--) {
    const item = draft.items[i]
    if (item?.kind === kind && item.streaming) return i
  }
  return -1
}

function appendStreaming(draft: Draft, kind: 'assistant' | 'thinking', chunk: string): void {
  const index = findStreaming(draft, kind)
  const item = draft.items[index]
  if (item && (item.kind === 'assistant' || item.kind === 'thinking')) {
    draft.items[index] = { ...item, text: item.text + chunk }
    return
  }
  const key = localKey(draft)
  draft.items.push(
    kind === 'assistant'
      ? { kind, key, seq: null, text: chunk, streaming: true, interrupted: null }
      : { kind, key, seq: null, text: chunk, streaming: true },
  )
}

function finishStreaming(draft: Draft, kind: 'assistant' | 'thinking', final: string, seq: number | null): void {
  const index = findStreaming(draft, kind)
  const item = draft.items[index]
  if (item && (item.kind === 'assistant' || item.kind === 'thinking')) {
    draft.items[index] = { ...item, text: final, streaming: false, seq }
    // Tokens of the next step can overtake this stored event: keep them streaming after it.
    if (item.text.length > final.length && item.text.startsWith(final)) {
      appendStreaming(draft, kind, item.text.slice(final.length))
    }
    return
  }
  if (kind === 'thinking' && final === '') return
  draft.items.push(
    kind === 'assistant'
      ? { kind, key: keyFor(draft, seq), seq, text: final, streaming: false, interrupted: null }
      : { kind, key: keyFor(draft, seq), seq, text: final, streaming: false },
  )
}

function onInterrupted(draft: Draft, content: Content, seq: number | null): void {
  const reason = text(content.reason) || 'cancelled'
  const partial = text(content.text)
  const index = findStreaming(draft, 'assistant')
  const item = draft.items[index]
  if (item?.kind === 'assistant') {
    draft.items[index] = { ...item, text: partial || item.text, streaming: false, seq, interrupted: reason }
  } else if (partial) {
    draft.items.push({
      kind: 'assistant',
      key: keyFor(draft, seq),
      seq,
      text: partial,
      streaming: false,
      interrupted: reason,
    })
  } else {
    pushNotice(draft, 'info', stopMessage(reason), null, seq)
  }
  closeOpenItems(draft, 'interrupted')
}

function stopMessage(reason: string): string {
  if (reason === 'shutdown') return 'The task stopped because the server shut down.'
  if (reason === 'crashed') return 'The task stopped because the server stopped unexpectedly.'
  return 'The task was stopped.'
}

function onToolCall(draft: Draft, content: Content, seq: number | null): void {
  const id = text(content.tool_call_id) || `call-${seq ?? draft.nextLocalKey}`
  const input = (content.tool_input && typeof content.tool_input === 'object' ? content.tool_input : {}) as Content
  const tool: ToolCard = {
    id,
    name: text(content.tool_name) || 'tool',
    input,
    status: 'running',
    result: null,
    output: '',
    edit: null,
    deployUrl: null,
    images: [],
  }
  draft.toolIndex.set(id, draft.items.length)
  draft.items.push({ kind: 'tool', key: keyFor(draft, seq), seq, tool })
}

function onToolResult(draft: Draft, content: Content): void {
  const result = typeof content.result === 'string' ? content.result : JSON.stringify(content.result, null, 2)
  const isError = content.is_error === true
  updateTool(draft, text(content.tool_call_id), (tool) => {
    const deployUrl = tool.name === 'static_deploy' && !isError ? deployUrlOf(result) : null
    if (deployUrl) draft.deployUrl = deployUrl
    return { ...tool, status: isError ? 'error' : 'done', result, deployUrl, images: imagesOf(content.images) }
  })
}

/** A `tool_result`'s `images: [{ path, media_type }]`; entries of another shape are skipped. */
function imagesOf(value: unknown): ToolImageRef[] {
  if (!Array.isArray(value)) return []
  return value.flatMap((entry) => {
    const image = (entry ?? {}) as Content
    return typeof image.path === 'string' && typeof image.media_type === 'string'
      ? [{ path: image.path, mediaType: image.media_type }]
      : []
  })
}

function onFileEdit(draft: Draft, content: Content, seq: number | null): void {
  const path = normalisePath(text(content.path))
  const after = text(content.content)
  const versions = draft.files.get(path) ?? []
  const before = versions[versions.length - 1]?.content ?? null
  draft.files.set(path, [...versions, { seq: seq ?? draft.lastSeq, content: after }])
  for (let i = draft.items.length - 1; i >= 0; i--) {
    const item = draft.items[i]
    if (item?.kind !== 'tool' || item.tool.name !== 'str_replace_editor' || item.tool.edit) continue
    if (!samePath(text(item.tool.input.path), path)) continue
    draft.items[i] = { ...item, tool: { ...item.tool, edit: { path, before, after } } }
    return
  }
}

function onError(draft: Draft, content: Content, seq: number | null): void {
  const message = text(content.message) || 'Unknown error'
  const code = text(content.error_code) || null
  if (seq === null && content.stored === false) {
    // The run stopped and the server could not store its end (the disk is full): it is over all the same.
    draft.running = false
    closeOpenItems(draft, 'interrupted')
    pushNotice(draft, 'error', message, code, null, true)
    return
  }
  // A live error right after a query means the query was refused (e.g. QUERY_IN_PROGRESS).
  if (seq === null) markSending(draft, 'failed')
  pushNotice(draft, 'error', message, code, seq)
}

function markSending(draft: Draft, delivery: 'sent' | 'failed'): void {
  for (let i = draft.items.length - 1; i >= 0; i--) {
    const item = draft.items[i]
    if (item?.kind === 'user' && item.delivery === 'sending') draft.items[i] = { ...item, delivery }
  }
}

/** The end of a run: nothing streams any more, and calls left open did not finish. */
function closeOpenItems(draft: Draft, toolEnd: 'done' | 'interrupted'): void {
  draft.items.forEach((item, i) => {
    if ((item.kind === 'assistant' || item.kind === 'thinking') && item.streaming) {
      draft.items[i] = { ...item, streaming: false }
    } else if (item.kind === 'tool' && item.tool.status === 'running') {
      draft.items[i] = { ...item, tool: { ...item.tool, status: toolEnd === 'done' ? 'done' : 'interrupted' } }
    }
  })
  markSending(draft, 'sent')
}

function updateTool(draft: Draft, id: string, change: (tool: ToolCard) => ToolCard): void {
  const index = draft.toolIndex.get(id)
  const item = index === undefined ? undefined : draft.items[index]
  if (index === undefined || item?.kind !== 'tool') return
  draft.items[index] = { ...item, tool: change(item.tool) }
}

function pushNotice(
  draft: Draft,
  tone: 'info' | 'error',
  message: string,
  code: string | null,
  seq: number | null,
  unsaved = false,
) {
  const item: ChatItem = { kind: 'notice', key: keyFor(draft, seq), seq, tone, text: message, code, unsaved }
  draft.items.push(item)
}

function samePath(a: string, b: string): boolean {
  const x = normalisePath(a)
  const y = normalisePath(b)
  return x === y || x.endsWith(`/${y}`) || y.endsWith(`/${x}`)
}

function keyFor(draft: Draft, seq: number | null): string {
  return seq === null ? localKey(draft) : `s${seq}`
}

function localKey(draft: Draft): string {
  draft.nextLocalKey++
  return `l${draft.nextLocalKey}`
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value == null ? '' : String(value)
}

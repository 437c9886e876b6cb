import { type ErrorCode, isBerthError } from '../core/errors.js'
import type { AgentEvent, TransientEvent } from '../core/events.js'
import type { LlmMessage, LlmProvider, LlmToolCall, LlmToolSpec, LlmUsage } from '../llm/types.js'
import { type AnyTool, runToolCall } from '../tools/run-tool.js'
import type { ToolContext, ToolResult } from '../tools/tool.js'
import type { HistoryBuilder } from './history.js'
import { runModelStep, type StepProgress } from './model-step.js'
import type { RunEventSink } from './run-events.js'

/** Shrinks the history before a model call (the context managers of src/agent/context). */
export type ContextPreparer = (messages: LlmMessage[], signal: AbortSignal) => LlmMessage[] | Promise<LlmMessage[]>

export interface RunLimits {
  /** Model calls per run (BERTH_MAX_TURNS). */
  maxTurns: number
  /** Input plus output tokens per run; null for no limit (BERTH_MAX_RUN_TOKENS). */
  maxTokens: number | null
  /** Output tokens per model call; undefined leaves it to the provider. */
  maxOutputTokens?: number
}

/** Where a run is, shared with the run manager so an interrupt can report it. */
export interface RunProgress {
  turns: number
  usage: LlmUsage
  /** Last `agent_response` text stored by the run. */
  answer: string | null
  step: StepProgress
}

export interface AgentLoopInput {
  provider: LlmProvider
  system: string
  tools: readonly AnyTool[]
  toolSpecs: LlmToolSpec[]
  /** Already fed with every stored event of the session, the run's `user_message` included. */
  history: HistoryBuilder
  sink: RunEventSink
  signal: AbortSignal
  limits: RunLimits
  prepareContext?: ContextPreparer
  /** The context for one tool call. */
  toolContext(toolCallId: string): ToolContext
  onTransient(event: TransientEvent): void
  progress: RunProgress
}

export type LoopEnd =
  | { status: 'completed' }
  | { status: 'failed'; error: { code: ErrorCode; message: string } }
  | { status: 'interrupted' }

const INTERRUPTED: LoopEnd = { status: 'interrupted' }

/**
 * The agent loop: call the model with the history, store what it says, run
 * the tools it calls one after another (each `tool_call` stored before the
 * tool runs, its `tool_result` after), and go on until the model answers
 * without calling a tool, `complete` gives the final answer, or a limit is
 * reached. It never throws: failures come back as a `failed` end, and an
 * abort as `interrupted`. The run manager records how the run ended.
 *
 * @example
 *   const end = await runAgentLoop({ provider, system, tools, toolSpecs, history, sink, signal,
 *     limits: { maxTurns: 200, maxTokens: null }, toolContext, onTransient, progress })
 */
export async function runAgentLoop(input: AgentLoopInput): Promise<LoopEnd> {
  const { signal, progress } = input
  try {
    for (;;) {
      if (signal.aborted) return INTERRUPTED
      const limit = limitReached(input.limits, progress)
      if (limit !== null) return { status: 'failed', error: limit }
      progress.turns++
      const end = await runTurn(input)
      if (end !== null) return end
    }
  } catch (error) {
    if (signal.aborted) return INTERRUPTED
    return { status: 'failed', error: describeError(error) }
  }
}

/** One model call and the tool calls it asked for; null when the loop goes on. */
async function runTurn(input: AgentLoopInput): Promise<LoopEnd | null> {
  const { signal, progress, history } = input
  let messages = history.messages()
  if (input.prepareContext) messages = await input.prepareContext(messages, signal)
  const step = await runModelStep(
    input.provider,
    {
      system: input.system,
      messages,
      tools: input.toolSpecs,
      signal,
      ...(input.limits.maxOutputTokens === undefined ? {} : { maxOutputTokens: input.limits.maxOutputTokens }),
    },
    input.onTransient,
    progress.step,
  )
  progress.usage.inputTokens += step.usage.inputTokens
  progress.usage.outputTokens += step.usage.outputTokens
  if (signal.aborted) return INTERRUPTED

  const head: AgentEvent[] = []
  if (step.reasoning.length > 0) head.push({ type: 'agent_thinking', content: { text: step.reasoning } })
  if (step.toolCalls.length === 0) {
    if (step.text.length > 0) head.push({ type: 'agent_response', content: { text: step.text } })
    if (!(await input.sink.append(...head))) return INTERRUPTED
    progress.step.text = ''
    if (step.text.length === 0) {
      const who = `${input.provider.provider} (${input.provider.model})`
      return {
        status: 'failed',
        error: { code: 'EMPTY_RESPONSE', message: `${who} answered with no text and no tool call.` },
      }
    }
    progress.answer = step.text
    return { status: 'completed' }
  }
  if (step.text.length > 0) {
    head.push({ type: 'agent_message', content: { text: step.text } })
    progress.answer = step.text
  }
  return runToolCalls(input, step.toolCalls, head)
}

async function runToolCalls(input: AgentLoopInput, calls: LlmToolCall[], head: AgentEvent[]): Promise<LoopEnd | null> {
  const { signal, sink, progress } = input
  // Events wait to share the next transaction, but a call is always stored before it runs.
  let pending = head
  for (const call of calls) {
    if (signal.aborted || !(await sink.append(...pending, toolCallEvent(call)))) return INTERRUPTED
    progress.step.text = ''
    // Unknown tools, unreadable arguments and tool failures come back as error results: the run goes on.
    const result = await runToolCall(input.tools, call, input.toolContext(call.id))
    if (signal.aborted) return INTERRUPTED
    pending = [toolResultEvent(call, result)]
    if (result.finalAnswer !== undefined) {
      if (!(await sink.append(...pending, { type: 'agent_response', content: { text: result.finalAnswer } }))) {
        return INTERRUPTED
      }
      progress.answer = result.finalAnswer
      return { status: 'completed' }
    }
  }
  if (!(await sink.append(...pending))) return INTERRUPTED
  return null
}

function toolCallEvent(call: LlmToolCall): AgentEvent {
  // A call whose arguments did not parse keeps the raw text and the reason, so a replay shows the model's mistake.
  const extra = call.inputError === undefined ? {} : { input_error: call.inputError }
  return {
    type: 'tool_call',
    content: { tool_call_id: call.id, tool_name: call.name, tool_input: call.input, ...extra },
  }
}

function toolResultEvent(call: LlmToolCall, result: ToolResult): AgentEvent {
  return {
    type: 'tool_result',
    content: {
      tool_call_id: call.id,
      tool_name: call.name,
      result: result.output,
      ...(result.isError === true ? { is_error: true } : {}),
      // Paths only: the bytes stay in the workspace, and the history reads them from there (image-attachments.ts).
      ...(result.images && result.images.length > 0
        ? { images: result.images.map((image) => ({ path: image.path, media_type: image.mediaType })) }
        : {}),
    },
  }
}

function limitReached(limits: RunLimits, progress: RunProgress): { code: ErrorCode; message: string } | null {
  if (progress.turns >= limits.maxTurns) {
    return {
      code: 'MAX_TURNS_REACHED',
      message: `The run stopped after ${progress.turns} model calls, its limit (BERTH_MAX_TURNS=${limits.maxTurns}).`,
    }
  }
  const used = progress.usage.inputTokens + progress.usage.outputTokens
  if (limits.maxTokens !== null && used >= limits.maxTokens) {
    return {
      code: 'TOKEN_LIMIT_REACHED',
      message: `The run stopped after using ${used} tokens, over its limit (BERTH_MAX_RUN_TOKENS=${limits.maxTokens}).`,
    }
  }
  return null
}

/** The code and message stored in the run's `error` event. */
export function describeError(error: unknown): { code: ErrorCode; message: string } {
  if (isBerthError(error)) return { code: error.code, message: error.message }
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'AGENT_RUNTIME_ERROR', message: `The agent failed: ${message}` }
}

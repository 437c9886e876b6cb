import { type ScriptedLlm, startScriptedServer, type WireProtocol } from './scripted-server.js'
import { argumentsJson, chunksOf, type ScriptedRequest, type ScriptedStep, stepText } from './steps.js'

const event = (type: string, data: Record<string, unknown>): string =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`

function usageOf(step: ScriptedStep, request: ScriptedRequest): { input_tokens: number; output_tokens: number } {
  if (step.usage) return { input_tokens: step.usage.input, output_tokens: step.usage.output }
  const output = stepText(step).length + (step.reasoning ?? '').length
  return { input_tokens: Math.ceil(JSON.stringify(request.body).length / 4), output_tokens: Math.ceil(output / 4) }
}

function stopReasonOf(step: ScriptedStep): string {
  return step.finishReason ?? (step.toolCalls && step.toolCalls.length > 0 ? 'tool_use' : 'end_turn')
}

function toolInput(args: unknown): unknown {
  if (typeof args !== 'string') return args ?? {}
  try {
    return JSON.parse(args)
  } catch {
    return { invalid_json: args }
  }
}

/** The Messages wire protocol: message_start, content_block_start/delta/stop, message_delta, message_stop. */
export const anthropicWire: WireProtocol = {
  name: 'anthropic',
  basePath: '',
  matches: (path) => path.endsWith('/messages'),

  streamHead(step, request, seq) {
    const usage = usageOf(step, request)
    const frames = [
      event('message_start', {
        message: {
          id: `msg_${seq}`,
          type: 'message',
          role: 'assistant',
          model: request.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: usage.input_tokens, output_tokens: 1 },
        },
      }),
    ]
    const size = step.chunkSize ?? 6
    let index = 0
    if (step.reasoning) {
      frames.push(
        event('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }),
      )
      for (const piece of chunksOf(step.reasoning, size)) {
        frames.push(event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: piece } }))
      }
      frames.push(event('content_block_delta', { index, delta: { type: 'signature_delta', signature: 'scripted' } }))
      frames.push(event('content_block_stop', { index }))
      index++
    }
    const text = stepText(step)
    if (text.length > 0) {
      frames.push(event('content_block_start', { index, content_block: { type: 'text', text: '' } }))
      for (const piece of chunksOf(text, size)) {
        frames.push(event('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }))
      }
      frames.push(event('content_block_stop', { index }))
      index++
    }
    for (const [n, call] of (step.toolCalls ?? []).entries()) {
      const id = call.id ?? `toolu_${seq}_${n}`
      frames.push(
        event('content_block_start', { index, content_block: { type: 'tool_use', id, name: call.name, input: {} } }),
      )
      for (const piece of chunksOf(argumentsJson(call), size)) {
        frames.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } }))
      }
      frames.push(event('content_block_stop', { index }))
      index++
    }
    return frames
  },

  streamTail(step, request) {
    return [
      event('message_delta', {
        delta: { stop_reason: stopReasonOf(step), stop_sequence: null },
        usage: { output_tokens: usageOf(step, request).output_tokens },
      }),
      event('message_stop', {}),
    ]
  },

  streamError: (message) => event('error', { error: { type: 'overloaded_error', message } }),

  complete(step, request, seq) {
    const content: unknown[] = []
    if (step.reasoning) content.push({ type: 'thinking', thinking: step.reasoning, signature: 'scripted' })
    if (stepText(step).length > 0) content.push({ type: 'text', text: stepText(step) })
    for (const [n, call] of (step.toolCalls ?? []).entries()) {
      content.push({
        type: 'tool_use',
        id: call.id ?? `toolu_${seq}_${n}`,
        name: call.name,
        input: toolInput(call.arguments),
      })
    }
    return {
      id: `msg_${seq}`,
      type: 'message',
      role: 'assistant',
      model: request.model,
      content,
      stop_reason: stopReasonOf(step),
      stop_sequence: null,
      usage: usageOf(step, request),
    }
  },

  errorBody: (status, message) => ({
    type: 'error',
    error: {
      type:
        status === 429
          ? 'rate_limit_error'
          : status === 529
            ? 'overloaded_error'
            : status >= 500
              ? 'api_error'
              : 'invalid_request_error',
      message,
    },
  }),
}

/**
 * A scripted Anthropic Messages server. `url` has no `/v1` (the SDK adds
 * it): use it as ANTHROPIC_BASE_URL or MOONSHOT_BASE_URL.
 *
 * @example
 *   const llm = await startScriptedAnthropic()
 *   llm.enqueue({ reasoning: 'Hmm.', text: 'Hello' })
 */
export function startScriptedAnthropic(options: { port?: number } = {}): Promise<ScriptedLlm> {
  return startScriptedServer(anthropicWire, options.port)
}

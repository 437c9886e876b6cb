import { type ScriptedLlm, startScriptedServer, type WireProtocol } from './scripted-server.js'
import { argumentsJson, chunksOf, type ScriptedRequest, type ScriptedStep, stepText } from './steps.js'

const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`

function usageOf(step: ScriptedStep, request: ScriptedRequest): { prompt_tokens: number; completion_tokens: number } {
  if (step.usage) return { prompt_tokens: step.usage.input, completion_tokens: step.usage.output }
  const output = stepText(step).length + (step.reasoning ?? '').length
  return { prompt_tokens: Math.ceil(JSON.stringify(request.body).length / 4), completion_tokens: Math.ceil(output / 4) }
}

function finishReasonOf(step: ScriptedStep): string {
  return step.finishReason ?? (step.toolCalls && step.toolCalls.length > 0 ? 'tool_calls' : 'stop')
}

/** The chat-completions wire protocol: `data:` chunks, usage when asked, `[DONE]`. */
export const openAiWire: WireProtocol = {
  name: 'openai',
  basePath: '/v1',
  matches: (path) => path.endsWith('/chat/completions'),

  streamHead(step, request, seq) {
    const model = request.model ?? 'scripted'
    const chunk = (delta: Record<string, unknown>): string =>
      sse({
        id: `chatcmpl-${seq}`,
        object: 'chat.completion.chunk',
        created: 1_700_000_000,
        model,
        choices: [{ index: 0, delta, finish_reason: null }],
      })
    const frames = [chunk({ role: 'assistant', content: '' })]
    const size = step.chunkSize ?? 6
    for (const piece of chunksOf(step.reasoning ?? '', size)) frames.push(chunk({ reasoning_content: piece }))
    for (const piece of chunksOf(stepText(step), size)) frames.push(chunk({ content: piece }))
    for (const [index, call] of (step.toolCalls ?? []).entries()) {
      const id = call.id ?? `call_${seq}_${index}`
      frames.push(
        chunk({ tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: '' } }] }),
      )
      for (const piece of chunksOf(argumentsJson(call), size)) {
        frames.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }))
      }
    }
    return frames
  },

  streamTail(step, request, seq) {
    const base = {
      id: `chatcmpl-${seq}`,
      object: 'chat.completion.chunk',
      created: 1_700_000_000,
      model: request.model,
    }
    const frames = [sse({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finishReasonOf(step) }] })]
    const options = request.body.stream_options as { include_usage?: boolean } | undefined
    if (options?.include_usage) {
      const usage = usageOf(step, request)
      frames.push(
        sse({ ...base, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }),
      )
    }
    frames.push('data: [DONE]\n\n')
    return frames
  },

  streamError: (message) => sse({ error: { message, type: 'server_error', code: 'scripted' } }),

  complete(step, request, seq) {
    const calls = (step.toolCalls ?? []).map((call, index) => ({
      id: call.id ?? `call_${seq}_${index}`,
      type: 'function',
      function: { name: call.name, arguments: argumentsJson(call) },
    }))
    const usage = usageOf(step, request)
    return {
      id: `chatcmpl-${seq}`,
      object: 'chat.completion',
      created: 1_700_000_000,
      model: request.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: stepText(step) || null,
            ...(step.reasoning ? { reasoning_content: step.reasoning } : {}),
            ...(calls.length > 0 ? { tool_calls: calls } : {}),
          },
          finish_reason: finishReasonOf(step),
        },
      ],
      usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
    }
  },

  errorBody: (status, message) => ({
    error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'server_error', code: status },
  }),
}

/**
 * A scripted OpenAI-compatible server (Chutes, OpenRouter, vLLM all speak
 * this). `url` ends in `/v1`: use it as CHUTES_BASE_URL, OPENROUTER_BASE_URL
 * or OPENAI_BASE_URL.
 *
 * @example
 *   const llm = await startScriptedOpenAi()
 *   llm.enqueue({ toolCalls: [{ name: 'bash', arguments: { command: 'ls' } }] }, { text: 'Done.' })
 *   const config = loadConfig({ env: { CHUTES_API_KEY: 'test', CHUTES_BASE_URL: llm.url }, envFile: false })
 */
export function startScriptedOpenAi(options: { port?: number } = {}): Promise<ScriptedLlm> {
  return startScriptedServer(openAiWire, options.port)
}

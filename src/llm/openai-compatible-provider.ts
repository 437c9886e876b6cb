import OpenAI from 'openai'
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions'
import { LlmError, notConfigured } from './llm-error.js'
import { toOpenAiMessages, toOpenAiTools } from './openai-messages.js'
import { type CallSite, toLlmError } from './sdk-errors.js'
import { ToolCallAssembler } from './tool-call-assembler.js'
import type { LlmProvider, LlmRequest, LlmStreamPart, LlmUsage } from './types.js'

export interface OpenAiCompatibleOptions {
  /** Name in errors and `finish` parts: `chutes`, `openrouter`, `openai`. */
  provider: string
  model: string
  /** Including `/v1`. */
  baseUrl: string
  /** Undefined: not configured; `stream()` then fails with `missingHint`. */
  apiKey: string | undefined
  /** e.g. `Set CHUTES_API_KEY`. */
  missingHint?: string
  headers?: Record<string, string>
  /** Upper bound for one HTTP request; the retry wrapper's budget usually ends it first. */
  timeoutMs?: number
}

type Delta = ChatCompletionChunk.Choice.Delta & { reasoning_content?: string | null; reasoning?: string | null }

/**
 * A model behind the chat-completions API: Chutes, OpenRouter, OpenAI, or
 * any compatible server (vLLM, Ollama, llama.cpp). Streams text, reasoning
 * (`reasoning_content` or `reasoning`) and native tool calls; it never
 * retries by itself (the SDK's retries are off; see `ResilientProvider`).
 *
 * @example
 *   const llm = new OpenAiCompatibleProvider({ provider: 'chutes', model: 'deepseek-ai/DeepSeek-V3-0324',
 *     baseUrl: 'https://llm.chutes.ai/v1', apiKey: process.env.CHUTES_API_KEY })
 *   for await (const part of llm.stream({ system, messages, tools, signal })) console.log(part)
 */
export class OpenAiCompatibleProvider implements LlmProvider {
  readonly provider: string
  readonly model: string
  readonly #options: OpenAiCompatibleOptions
  #client: OpenAI | undefined

  constructor(options: OpenAiCompatibleOptions) {
    this.provider = options.provider
    this.model = options.model
    this.#options = options
  }

  async *stream(request: LlmRequest): AsyncGenerator<LlmStreamPart> {
    const site: CallSite = { provider: this.provider, model: this.model, baseUrl: this.#options.baseUrl }
    const client = this.#clientOrThrow()
    let chunks: AsyncIterable<ChatCompletionChunk>
    try {
      chunks = await client.chat.completions.create(this.#body(request), { signal: request.signal })
    } catch (error) {
      throw toLlmError(error, site, request.signal)
    }

    const calls = new ToolCallAssembler()
    let finishReason: string | null = null
    let usage: LlmUsage = { inputTokens: 0, outputTokens: 0 }
    try {
      for await (const chunk of chunks) {
        if (chunk.usage) usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens }
        const choice = chunk.choices?.[0]
        if (!choice) continue
        const delta = (choice.delta ?? {}) as Delta
        const reasoning = delta.reasoning_content ?? delta.reasoning
        if (typeof reasoning === 'string' && reasoning.length > 0) yield { type: 'reasoning-delta', text: reasoning }
        if (typeof delta.content === 'string' && delta.content.length > 0)
          yield { type: 'text-delta', text: delta.content }
        for (const fragment of delta.tool_calls ?? []) {
          calls.start(fragment.index, fragment.id, fragment.function?.name)
          if (fragment.function?.arguments) calls.append(fragment.index, fragment.function.arguments)
        }
        if (choice.finish_reason) finishReason = choice.finish_reason
      }
    } catch (error) {
      throw toLlmError(error, site, request.signal)
    }
    // The SDK ends the iteration quietly when the signal fires; a cancelled call must not look finished.
    if (request.signal.aborted) throw toLlmError(request.signal.reason, site, request.signal)
    if (finishReason === null) {
      throw new LlmError('LLM_REQUEST_FAILED', `${this.provider} (${this.model}) ended its stream without finishing`, {
        provider: this.provider,
        model: this.model,
        retryable: true,
      })
    }
    const toolCalls = calls.finish()
    for (const call of toolCalls) yield { type: 'tool-call', call }
    yield {
      type: 'finish',
      finishReason: toolCalls.length > 0 ? 'tool-calls' : mapFinishReason(finishReason),
      usage,
      model: this.model,
      provider: this.provider,
    }
  }

  #clientOrThrow(): OpenAI {
    if (this.#client) return this.#client
    const { apiKey, baseUrl } = this.#options
    if (apiKey === undefined) {
      throw notConfigured(this.provider, this.model, this.#options.missingHint)
    }
    this.#client = new OpenAI({
      apiKey,
      baseURL: baseUrl,
      maxRetries: 0,
      timeout: this.#options.timeoutMs ?? 600_000,
      ...(this.#options.headers ? { defaultHeaders: this.#options.headers } : {}),
    })
    return this.#client
  }

  #body(request: LlmRequest): ChatCompletionCreateParamsStreaming {
    return {
      model: this.model,
      messages: toOpenAiMessages(request.system, request.messages),
      stream: true,
      stream_options: { include_usage: true },
      ...(request.tools.length > 0 ? { tools: toOpenAiTools(request.tools) } : {}),
      ...(request.maxOutputTokens === undefined ? {} : { max_tokens: request.maxOutputTokens }),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    }
  }
}

function mapFinishReason(reason: string): 'stop' | 'tool-calls' | 'length' | 'content-filter' | 'other' {
  switch (reason) {
    case 'stop':
      return 'stop'
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls'
    case 'length':
      return 'length'
    case 'content_filter':
      return 'content-filter'
    default:
      return 'other'
  }
}

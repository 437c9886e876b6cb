import Anthropic from '@anthropic-ai/sdk'
import type { MessageCreateParamsStreaming, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages'
import { toAnthropicMessages, toAnthropicTools } from './anthropic-messages.js'
import { LlmError, notConfigured } from './llm-error.js'
import { type CallSite, toLlmError } from './sdk-errors.js'
import { ToolCallAssembler } from './tool-call-assembler.js'
import type { LlmProvider, LlmRequest, LlmStreamPart, LlmUsage } from './types.js'

export interface AnthropicOptions {
  /** `anthropic`, or `moonshot` for Moonshot's Anthropic-compatible endpoint. */
  provider: string
  model: string
  baseUrl: string
  apiKey: string | undefined
  missingHint?: string
  timeoutMs?: number
  /** Used when the request names none; the Messages API requires a limit. */
  defaultMaxTokens?: number
}

type FinishReason = 'stop' | 'tool-calls' | 'length' | 'content-filter' | 'other'

/**
 * A model behind the Anthropic Messages API (Anthropic itself, or Moonshot's
 * compatible endpoint). Streams text, thinking and `tool_use` blocks, the
 * latter assembled from `input_json_delta` fragments. Never retries by itself.
 *
 * @example
 *   const llm = new AnthropicProvider({ provider: 'anthropic', model: 'claude-sonnet-4-0',
 *     baseUrl: 'https://api.anthropic.com', apiKey: process.env.ANTHROPIC_API_KEY })
 */
export class AnthropicProvider implements LlmProvider {
  readonly provider: string
  readonly model: string
  readonly #options: AnthropicOptions
  #client: Anthropic | undefined

  constructor(options: AnthropicOptions) {
    this.provider = options.provider
    this.model = options.model
    this.#options = options
  }

  async *stream(request: LlmRequest): AsyncGenerator<LlmStreamPart> {
    const site: CallSite = { provider: this.provider, model: this.model, baseUrl: this.#options.baseUrl }
    const client = this.#clientOrThrow()
    let events: AsyncIterable<RawMessageStreamEvent>
    try {
      events = await client.messages.create(this.#body(request), { signal: request.signal })
    } catch (error) {
      throw toLlmError(error, site, request.signal)
    }

    const calls = new ToolCallAssembler()
    const toolBlocks = new Map<number, { initial: unknown; sawDelta: boolean }>()
    const usage: LlmUsage = { inputTokens: 0, outputTokens: 0 }
    let stopReason: string | null = null
    let sawToolCall = false
    try {
      for await (const event of events) {
        switch (event.type) {
          case 'message_start': {
            const start = event.message.usage
            usage.inputTokens =
              start.input_tokens + (start.cache_creation_input_tokens ?? 0) + (start.cache_read_input_tokens ?? 0)
            usage.outputTokens = start.output_tokens
            break
          }
          case 'content_block_start':
            if (event.content_block.type === 'tool_use') {
              calls.start(event.index, event.content_block.id, event.content_block.name)
              toolBlocks.set(event.index, { initial: event.content_block.input, sawDelta: false })
            } else if (event.content_block.type === 'text' && event.content_block.text.length > 0) {
              yield { type: 'text-delta', text: event.content_block.text }
            }
            break
          case 'content_block_delta':
            if (event.delta.type === 'text_delta') yield { type: 'text-delta', text: event.delta.text }
            else if (event.delta.type === 'thinking_delta')
              yield { type: 'reasoning-delta', text: event.delta.thinking }
            else if (event.delta.type === 'input_json_delta') {
              calls.append(event.index, event.delta.partial_json)
              const block = toolBlocks.get(event.index)
              if (block) block.sawDelta = true
            }
            break
          case 'content_block_stop': {
            const block = toolBlocks.get(event.index)
            if (!block) break
            // A server that sends the whole input up front and no deltas: use that input.
            if (!block.sawDelta && block.initial !== undefined) calls.append(event.index, JSON.stringify(block.initial))
            toolBlocks.delete(event.index)
            for (const call of calls.finish()) {
              sawToolCall = true
              yield { type: 'tool-call', call }
            }
            break
          }
          case 'message_delta':
            if (event.delta.stop_reason) stopReason = event.delta.stop_reason
            if (event.usage.output_tokens !== null) usage.outputTokens = event.usage.output_tokens
            if (typeof event.usage.input_tokens === 'number' && event.usage.input_tokens > usage.inputTokens) {
              usage.inputTokens = event.usage.input_tokens
            }
            break
          case 'message_stop':
            break
        }
      }
    } catch (error) {
      throw toLlmError(error, site, request.signal)
    }
    if (request.signal.aborted) throw toLlmError(request.signal.reason, site, request.signal)
    if (stopReason === null) {
      throw new LlmError('LLM_REQUEST_FAILED', `${this.provider} (${this.model}) ended its stream without finishing`, {
        provider: this.provider,
        model: this.model,
        retryable: true,
      })
    }
    yield {
      type: 'finish',
      finishReason: sawToolCall ? 'tool-calls' : mapStopReason(stopReason),
      usage,
      model: this.model,
      provider: this.provider,
    }
  }

  #clientOrThrow(): Anthropic {
    if (this.#client) return this.#client
    const { apiKey, baseUrl } = this.#options
    if (apiKey === undefined) {
      throw notConfigured(this.provider, this.model, this.#options.missingHint)
    }
    // An explicit key and base URL: the SDK then reads no credentials or URL of its own from the environment.
    this.#client = new Anthropic({
      apiKey,
      baseURL: baseUrl,
      maxRetries: 0,
      timeout: this.#options.timeoutMs ?? 600_000,
    })
    return this.#client
  }

  #body(request: LlmRequest): MessageCreateParamsStreaming {
    return {
      model: this.model,
      max_tokens: request.maxOutputTokens ?? this.#options.defaultMaxTokens ?? 8192,
      messages: toAnthropicMessages(request.messages),
      stream: true,
      ...(request.system.length > 0 ? { system: request.system } : {}),
      ...(request.tools.length > 0 ? { tools: toAnthropicTools(request.tools) } : {}),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    }
  }
}

function mapStopReason(reason: string): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop'
    case 'tool_use':
      return 'tool-calls'
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length'
    case 'refusal':
      return 'content-filter'
    default:
      return 'other'
  }
}

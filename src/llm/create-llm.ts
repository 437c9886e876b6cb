import type { BerthConfig } from '../config/config.js'
import type { Logger } from '../logging/logger.js'
import { AnthropicProvider } from './anthropic-provider.js'
import { JsonToolCallProvider } from './json-tool-call-provider.js'
import { OpenAiCompatibleProvider } from './openai-compatible-provider.js'
import { connectionFor, PRESETS } from './presets.js'
import { type ResilienceOptions, ResilientProvider } from './resilient-provider.js'
import { type ModelChoice, type ModelRequest, resolveModel } from './resolve-model.js'
import type { LlmProvider } from './types.js'

export type ToolCallMode = 'native' | 'json'

export interface CreateLlmOptions extends ModelRequest {
  /** Default: the `BERTH_TOOL_CALL_MODE` setting. The reference client's `use_native_tool_calling=true` means `native`. */
  toolCallMode?: ToolCallMode
  /** Models to try after the first; default: the `BERTH_FALLBACK_MODELS` setting. `[]` for none. */
  fallbackModels?: readonly string[]
  /** Retries and failovers are logged here as warnings. */
  logger?: Logger
  /** Overrides of the settings-derived retry policy (tests use tiny delays). */
  resilience?: Partial<ResilienceOptions>
}

/**
 * The LLM for one session or run: the resolved model (see `resolveModel`),
 * its fallbacks, retries and time budget, in one `LlmProvider`. Never throws
 * for a missing key: the first `stream()` fails with `LLM_NOT_CONFIGURED`
 * naming the variable to set, so the server starts without any key.
 *
 * @example
 *   const llm = createLlm(config, { modelId: query.model_id, providerHint: 'use_chutes' })
 *   for await (const part of llm.stream({ system, messages, tools, signal })) { ... }
 */
export function createLlm(config: BerthConfig, options: CreateLlmOptions = {}): ResilientProvider {
  const primary = resolveModel(config, options)
  const mode = options.toolCallMode ?? config.toolCallMode
  const budgetMs = Math.round(config.llmTimeout * 1000)
  const candidates = [primary]
  for (const id of options.fallbackModels ?? config.fallbackModels) {
    const choice = resolveModel(config, { modelId: id })
    if (!candidates.some((known) => known.provider === choice.provider && known.model === choice.model)) {
      candidates.push(choice)
    }
  }
  const logger = options.logger
  return new ResilientProvider(
    candidates.map((choice) => createProvider(config, choice, { toolCallMode: mode, timeoutMs: budgetMs })),
    {
      maxRetries: config.llmMaxRetries,
      baseDelayMs: config.llmRetryDelay,
      budgetMs,
      ...(logger
        ? {
            onRetry: (event) =>
              logger.warn(
                {
                  provider: event.provider,
                  model: event.model,
                  status: event.error.httpStatus,
                  code: event.error.code,
                  delayMs: event.delayMs,
                  attempt: event.attempt,
                },
                event.action === 'retry'
                  ? `LLM call failed, retrying: ${event.error.message}`
                  : `LLM call failed, trying the next model: ${event.error.message}`,
              ),
          }
        : {}),
      ...options.resilience,
    },
  )
}

/**
 * One model on one provider, without retries: the building block of
 * `createLlm`, also handy in tests.
 *
 * @example
 *   createProvider(config, { provider: 'chutes', model: 'deepseek-ai/DeepSeek-V3-0324' })
 */
export function createProvider(
  config: BerthConfig,
  choice: ModelChoice,
  options: { toolCallMode?: ToolCallMode; timeoutMs?: number } = {},
): LlmProvider {
  const preset = PRESETS[choice.provider]
  const connection = connectionFor(config, choice.provider)
  const common = {
    provider: choice.provider,
    model: choice.model,
    baseUrl: connection.baseUrl,
    apiKey: connection.apiKey,
    missingHint: connection.missingHint,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  }
  const provider =
    preset.protocol === 'anthropic'
      ? new AnthropicProvider(common)
      : new OpenAiCompatibleProvider({
          ...common,
          // OpenRouter names the calling app by this header in its activity views.
          ...(choice.provider === 'openrouter' ? { headers: { 'X-Title': 'berth' } } : {}),
        })
  return (options.toolCallMode ?? config.toolCallMode) === 'json' ? new JsonToolCallProvider(provider) : provider
}

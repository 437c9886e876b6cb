import type { BerthConfig } from '../config/config.js'

export type ProviderId = 'chutes' | 'openrouter' | 'openai' | 'anthropic' | 'moonshot'

export const PROVIDER_IDS: readonly ProviderId[] = ['chutes', 'openrouter', 'openai', 'anthropic', 'moonshot']

export interface ProviderPreset {
  id: ProviderId
  label: string
  /** Which wire protocol (and SDK) speaks to it. */
  protocol: 'openai' | 'anthropic'
  defaultBaseUrl: string
  /** The variables a user sets, named in "not configured" errors. */
  keyVariable: string
  baseUrlVariable: string
  defaultModel: string
  /** Offered in the UI's model picker; any other id the provider knows works too. */
  suggestedModels: readonly string[]
}

export const PRESETS: Record<ProviderId, ProviderPreset> = {
  chutes: {
    id: 'chutes',
    label: 'Chutes',
    protocol: 'openai',
    defaultBaseUrl: 'https://llm.chutes.ai/v1',
    keyVariable: 'CHUTES_API_KEY',
    baseUrlVariable: 'CHUTES_BASE_URL',
    defaultModel: 'deepseek-ai/DeepSeek-V3-0324',
    suggestedModels: [
      'deepseek-ai/DeepSeek-V3-0324',
      'deepseek-ai/DeepSeek-R1-0528',
      'Qwen/Qwen3-235B-A22B',
      'moonshotai/Kimi-K2-Instruct',
    ],
  },
  openrouter: {
    id: 'openrouter',
    label: 'OpenRouter',
    protocol: 'openai',
    defaultBaseUrl: 'https://openrouter.ai/api/v1',
    keyVariable: 'OPENROUTER_API_KEY',
    baseUrlVariable: 'OPENROUTER_BASE_URL',
    defaultModel: 'deepseek/deepseek-chat-v3-0324',
    suggestedModels: ['deepseek/deepseek-chat-v3-0324', 'anthropic/claude-sonnet-4', 'google/gemini-2.5-pro'],
  },
  openai: {
    id: 'openai',
    label: 'OpenAI-compatible',
    protocol: 'openai',
    defaultBaseUrl: 'https://api.openai.com/v1',
    keyVariable: 'OPENAI_API_KEY',
    baseUrlVariable: 'OPENAI_BASE_URL',
    defaultModel: 'gpt-4.1',
    suggestedModels: ['gpt-4.1', 'gpt-4.1-mini', 'o4-mini'],
  },
  anthropic: {
    id: 'anthropic',
    label: 'Anthropic',
    protocol: 'anthropic',
    defaultBaseUrl: 'https://api.anthropic.com',
    keyVariable: 'ANTHROPIC_API_KEY',
    baseUrlVariable: 'ANTHROPIC_BASE_URL',
    defaultModel: 'claude-sonnet-4-0',
    suggestedModels: ['claude-sonnet-4-0', 'claude-opus-4-0', 'claude-3-7-sonnet-latest'],
  },
  moonshot: {
    id: 'moonshot',
    label: 'Moonshot (Kimi)',
    protocol: 'anthropic',
    defaultBaseUrl: 'https://api.moonshot.ai/anthropic',
    keyVariable: 'MOONSHOT_API_KEY',
    baseUrlVariable: 'MOONSHOT_BASE_URL',
    defaultModel: 'kimi-k2-0711-preview',
    suggestedModels: ['kimi-k2-0711-preview'],
  },
}

export interface ProviderConnection {
  baseUrl: string
  /** Undefined when not configured. A local OpenAI-compatible server needs no key: a placeholder is used. */
  apiKey: string | undefined
  configured: boolean
  /** What to tell the user when it is not configured. */
  missingHint: string
}

/**
 * Where a provider lives and with which key, from the settings. Reading this
 * never fails: a provider without a key is "not configured", and only its
 * first request says so.
 *
 * @example
 *   connectionFor(config, 'chutes') // { baseUrl: 'https://llm.chutes.ai/v1', apiKey: undefined, configured: false, … }
 */
export function connectionFor(config: BerthConfig, id: ProviderId): ProviderConnection {
  const preset = PRESETS[id]
  const [key, baseUrl] = settingsOf(config, id)
  const url = (baseUrl ?? preset.defaultBaseUrl).replace(/\/+$/, '')
  // OPENAI_BASE_URL alone means a local server (Ollama, llama.cpp, vLLM) that wants no key.
  const keyless = id === 'openai' && key === undefined && baseUrl !== undefined
  const apiKey = keyless ? 'not-needed' : key
  const missingHint =
    id === 'openai'
      ? 'Set OPENAI_API_KEY (or OPENAI_BASE_URL for a local OpenAI-compatible server such as vLLM, Ollama or llama.cpp)'
      : `Set ${preset.keyVariable}`
  return { baseUrl: url, apiKey, configured: apiKey !== undefined, missingHint }
}

function settingsOf(config: BerthConfig, id: ProviderId): [string | undefined, string | undefined] {
  switch (id) {
    case 'chutes':
      return [config.chutesApiKey, config.chutesBaseUrl]
    case 'openrouter':
      return [config.openrouterApiKey, config.openrouterBaseUrl]
    case 'openai':
      return [config.openaiApiKey, config.openaiBaseUrl]
    case 'anthropic':
      return [config.anthropicApiKey, config.anthropicBaseUrl]
    case 'moonshot':
      return [config.moonshotApiKey, config.moonshotBaseUrl]
  }
}

export function isProviderId(value: string): value is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(value)
}

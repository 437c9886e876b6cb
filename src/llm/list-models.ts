import type { BerthConfig } from '../config/config.js'
import { connectionFor, PRESETS, PROVIDER_IDS, type ProviderId } from './presets.js'
import { type ModelChoice, resolveModel } from './resolve-model.js'

export interface ModelOption {
  /** What a client sends as `model_id` to get exactly this model: `provider:model`. */
  id: string
  provider: ProviderId
  model: string
  /** e.g. `deepseek-ai/DeepSeek-V3-0324 (Chutes)`. */
  label: string
  /** False when the provider has no key: choosing it fails with a message naming the variable. */
  configured: boolean
  isDefault: boolean
}

export interface ProviderInfo {
  id: ProviderId
  label: string
  configured: boolean
  baseUrl: string
  /** The variable that configures it, for a "set X to enable" hint. */
  keyVariable: string
}

export interface ModelCatalog {
  default: ModelChoice
  fallbacks: ModelChoice[]
  providers: ProviderInfo[]
  /** Configured providers first; the default model first of all. */
  models: ModelOption[]
}

/**
 * What the UI's model picker offers: the default and fallback models, and
 * each provider's suggested models, marked configured or not. Reads only the
 * settings (no network), so it is cheap to call per request.
 *
 * @example
 *   listModels(config).models[0] // { id: 'chutes:deepseek-ai/DeepSeek-V3-0324', isDefault: true, ... }
 */
export function listModels(config: BerthConfig): ModelCatalog {
  const primary = resolveModel(config)
  const fallbacks = config.fallbackModels.map((id) => resolveModel(config, { modelId: id }))
  const providers = PROVIDER_IDS.map((id): ProviderInfo => {
    const connection = connectionFor(config, id)
    const preset = PRESETS[id]
    return {
      id,
      label: preset.label,
      configured: connection.configured,
      baseUrl: connection.baseUrl,
      keyVariable: preset.keyVariable,
    }
  })
  const seen = new Set<string>()
  const models: ModelOption[] = []
  const add = (choice: ModelChoice): void => {
    const id = `${choice.provider}:${choice.model}`
    if (seen.has(id)) return
    seen.add(id)
    models.push({
      id,
      provider: choice.provider,
      model: choice.model,
      label: `${choice.model} (${PRESETS[choice.provider].label})`,
      configured: connectionFor(config, choice.provider).configured,
      isDefault: choice.provider === primary.provider && choice.model === primary.model,
    })
  }
  add(primary)
  for (const fallback of fallbacks) add(fallback)
  for (const configured of [true, false]) {
    for (const provider of providers.filter((info) => info.configured === configured)) {
      for (const model of PRESETS[provider.id].suggestedModels) add({ provider: provider.id, model })
    }
  }
  return { default: primary, fallbacks, providers, models }
}

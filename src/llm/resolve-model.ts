import type { BerthConfig } from '../config/config.js'
import { SETTINGS } from '../config/settings.js'
import { connectionFor, isProviderId, PRESETS, PROVIDER_IDS, type ProviderId } from './presets.js'

export interface ModelChoice {
  provider: ProviderId
  model: string
}

export interface ModelRequest {
  /** What the client asked for (`model_id`); default: the `BERTH_MODEL` setting. */
  modelId?: string | undefined
  /** The reference client's flag: `use_chutes`, `use_openrouter`, `use_moonshot` (or the bare provider name). */
  providerHint?: string | undefined
}

/**
 * Which provider serves a model id. In order:
 *
 * 1. `provider:model` (`openrouter:anthropic/claude-sonnet-4`) pins the provider; `chutes:` alone means its default.
 * 2. A provider hint (`use_chutes`, `use_openrouter`, `use_moonshot`, `use_anthropic`, `use_openai`) picks the
 *    provider. As in the reference, `claude-*` with `use_chutes` becomes Chutes' default model, and Moonshot gets
 *    the id only if it is a `kimi-*` one, else Moonshot's default.
 * 3. No model configured at all (`BERTH_MODEL` unset and no id sent): the first provider with a key, in the
 *    order chutes, openrouter, openai, anthropic, moonshot, with its default model; with no key anywhere,
 *    Chutes (whose first request then says to set CHUTES_API_KEY).
 * 4. A model one configured preset lists as its own (see `PRESETS[*].suggestedModels`): that preset.
 * 5. `claude-*`: Anthropic when ANTHROPIC_API_KEY is set; otherwise the configured default model, as the
 *    reference sends Claude ids to Chutes' DeepSeek when the user has no Anthropic access.
 *    `kimi-*`: Moonshot when MOONSHOT_API_KEY is set.
 * 6. `org/model` ids: among Chutes, OpenRouter and an OpenAI-compatible server, the one configured; with
 *    both Chutes and OpenRouter, OpenRouter for all-lowercase ids (its naming) and Chutes for Hugging Face
 *    style ids (`deepseek-ai/DeepSeek-V3-0324`). Nothing configured: Chutes.
 * 7. Any other id (`gpt-4.1`, `llama3.1:8b`): the OpenAI-compatible server when OPENAI_API_KEY or
 *    OPENAI_BASE_URL is set, else Chutes ("anything else → Chutes", as in the reference).
 *
 * @example
 *   resolveModel(config, { modelId: 'claude-sonnet-4-0' }) // { provider: 'chutes', model: 'deepseek-ai/DeepSeek-V3-0324' } without ANTHROPIC_API_KEY
 */
export function resolveModel(config: BerthConfig, request: ModelRequest = {}): ModelChoice {
  const sent = request.modelId?.trim()
  const id = sent && sent.length > 0 ? sent : config.model
  const pinned = parsePinned(id)
  if (pinned) return pinned

  const hint = normaliseHint(request.providerHint)
  if (hint) return fromHint(hint, id)

  if (!sent && config.model === SETTINGS.model.default) {
    const first = PROVIDER_IDS.find((provider) => configured(config, provider)) ?? 'chutes'
    return { provider: first, model: first === 'chutes' ? id : PRESETS[first].defaultModel }
  }
  return byShape(config, id, sent !== undefined && sent.length > 0)
}

function byShape(config: BerthConfig, id: string, fromClient: boolean): ModelChoice {
  const known = PROVIDER_IDS.find(
    (provider) => PRESETS[provider].suggestedModels.includes(id) && configured(config, provider),
  )
  if (known) return { provider: known, model: id }

  if (isClaude(id)) {
    if (configured(config, 'anthropic')) return { provider: 'anthropic', model: id }
    // Redirect only what a client sent; a configured Claude default must say which key is missing.
    return fromClient && !isClaude(config.model) ? resolveModel(config) : { provider: 'anthropic', model: id }
  }
  if (isKimi(id) && configured(config, 'moonshot')) return { provider: 'moonshot', model: id }

  if (id.includes('/')) {
    const chutes = configured(config, 'chutes')
    const openrouter = configured(config, 'openrouter')
    if (chutes && openrouter) return { provider: id === id.toLowerCase() ? 'openrouter' : 'chutes', model: id }
    if (openrouter) return { provider: 'openrouter', model: id }
    if (!chutes && configured(config, 'openai')) return { provider: 'openai', model: id }
    return { provider: 'chutes', model: id }
  }
  return { provider: configured(config, 'openai') ? 'openai' : 'chutes', model: id }
}

function fromHint(hint: ProviderId, id: string): ModelChoice {
  if (hint === 'moonshot') return { provider: 'moonshot', model: isKimi(id) ? id : PRESETS.moonshot.defaultModel }
  if (hint === 'chutes' && isClaude(id)) return { provider: 'chutes', model: PRESETS.chutes.defaultModel }
  return { provider: hint, model: id }
}

/** `openrouter:anthropic/claude-sonnet-4` → pinned; `llama3.1:8b` is not (llama3.1 is no provider). */
export function parsePinned(id: string): ModelChoice | undefined {
  const colon = id.indexOf(':')
  if (colon === -1) return undefined
  const provider = id.slice(0, colon).toLowerCase()
  if (!isProviderId(provider)) return undefined
  const model = id.slice(colon + 1).trim()
  return { provider, model: model.length > 0 ? model : PRESETS[provider].defaultModel }
}

export function normaliseHint(hint: string | undefined): ProviderId | undefined {
  if (!hint) return undefined
  const name = hint.trim().toLowerCase().replace(/^use_/, '')
  return isProviderId(name) ? name : undefined
}

function configured(config: BerthConfig, provider: ProviderId): boolean {
  return connectionFor(config, provider).configured
}

function isClaude(id: string): boolean {
  return /^claude-/i.test(id)
}

function isKimi(id: string): boolean {
  return /^kimi-/i.test(id)
}

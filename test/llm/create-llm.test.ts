import { describe, expect, it } from 'vitest'
import { createLlm } from '../../src/llm/create-llm.js'
import { listModels } from '../../src/llm/list-models.js'
import { resolveModel } from '../../src/llm/resolve-model.js'
import { configWith, llmRequest, streamError } from './llm-test-kit.js'

const CHUTES = { CHUTES_API_KEY: 'c' }
const OPENROUTER = { OPENROUTER_API_KEY: 'o' }
const ANTHROPIC = { ANTHROPIC_API_KEY: 'a' }

describe('resolveModel', () => {
  it('uses Chutes DeepSeek by default, even with no key at all', () => {
    expect(resolveModel(configWith({}))).toEqual({ provider: 'chutes', model: 'deepseek-ai/DeepSeek-V3-0324' })
    expect(resolveModel(configWith(CHUTES))).toEqual({ provider: 'chutes', model: 'deepseek-ai/DeepSeek-V3-0324' })
  })

  it('with no model configured, picks the first provider that has a key, with its default model', () => {
    expect(resolveModel(configWith(OPENROUTER))).toEqual({
      provider: 'openrouter',
      model: 'deepseek/deepseek-chat-v3-0324',
    })
    expect(resolveModel(configWith(ANTHROPIC))).toEqual({ provider: 'anthropic', model: 'claude-sonnet-4-0' })
  })

  it('honours BERTH_MODEL and a pinned provider:model', () => {
    expect(resolveModel(configWith({ ...CHUTES, BERTH_MODEL: 'Qwen/Qwen3-235B-A22B' }))).toEqual({
      provider: 'chutes',
      model: 'Qwen/Qwen3-235B-A22B',
    })
    expect(resolveModel(configWith(CHUTES), { modelId: 'openrouter:anthropic/claude-sonnet-4' })).toEqual({
      provider: 'openrouter',
      model: 'anthropic/claude-sonnet-4',
    })
    expect(resolveModel(configWith({}), { modelId: 'anthropic:' })).toEqual({
      provider: 'anthropic',
      model: 'claude-sonnet-4-0',
    })
  })

  it('maps claude-* to Anthropic with a key, else to the default model as the reference does', () => {
    expect(resolveModel(configWith({ ...CHUTES, ...ANTHROPIC }), { modelId: 'claude-sonnet-4-0' })).toEqual({
      provider: 'anthropic',
      model: 'claude-sonnet-4-0',
    })
    expect(resolveModel(configWith(CHUTES), { modelId: 'claude-sonnet-4-0' })).toEqual({
      provider: 'chutes',
      model: 'deepseek-ai/DeepSeek-V3-0324',
    })
    // A Claude model configured by the operator is not swapped: its error names ANTHROPIC_API_KEY.
    expect(resolveModel(configWith({ BERTH_MODEL: 'claude-opus-4-0' }))).toEqual({
      provider: 'anthropic',
      model: 'claude-opus-4-0',
    })
  })

  it('maps the reference flags', () => {
    const config = configWith({ ...CHUTES, ...OPENROUTER, ...ANTHROPIC })
    expect(resolveModel(config, { modelId: 'claude-sonnet-4-0', providerHint: 'use_chutes' })).toEqual({
      provider: 'chutes',
      model: 'deepseek-ai/DeepSeek-V3-0324',
    })
    expect(resolveModel(config, { modelId: 'google/gemini-2.5-pro', providerHint: 'use_openrouter' })).toEqual({
      provider: 'openrouter',
      model: 'google/gemini-2.5-pro',
    })
    expect(resolveModel(config, { modelId: 'claude-sonnet-4-0', providerHint: 'use_moonshot' })).toEqual({
      provider: 'moonshot',
      model: 'kimi-k2-0711-preview',
    })
    expect(resolveModel(config, { modelId: 'x/y', providerHint: 'use_nonsense' }).provider).toBe('openrouter')
  })

  it('sends org/model ids to whichever of Chutes and OpenRouter is configured', () => {
    expect(resolveModel(configWith(OPENROUTER), { modelId: 'meta-llama/llama-3.3-70b-instruct' }).provider).toBe(
      'openrouter',
    )
    expect(resolveModel(configWith(CHUTES), { modelId: 'meta-llama/llama-3.3-70b-instruct' }).provider).toBe('chutes')
    const both = configWith({ ...CHUTES, ...OPENROUTER })
    expect(resolveModel(both, { modelId: 'meta-llama/llama-3.3-70b-instruct' }).provider).toBe('openrouter')
    expect(resolveModel(both, { modelId: 'unsloth/Llama-3.3-70B-Instruct' }).provider).toBe('chutes')
    expect(
      resolveModel(configWith({ OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' }), { modelId: 'Qwen/Qwen2.5-7B' }),
    ).toEqual({
      provider: 'openai',
      model: 'Qwen/Qwen2.5-7B',
    })
  })

  it('sends other ids to an OpenAI-compatible server when one is set, else to Chutes', () => {
    expect(resolveModel(configWith({ OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' }), { modelId: 'llama3.1:8b' })).toEqual({
      provider: 'openai',
      model: 'llama3.1:8b',
    })
    expect(resolveModel(configWith(CHUTES), { modelId: 'gpt-4.1' }).provider).toBe('chutes')
  })
})

describe('createLlm', () => {
  it('builds the primary and the fallbacks without any key, and fails on use naming the variable', async () => {
    const llm = createLlm(configWith({ BERTH_FALLBACK_MODELS: 'openrouter:x/y' }))
    expect(llm.candidates.map((candidate) => `${candidate.provider}:${candidate.model}`)).toEqual([
      'chutes:deepseek-ai/DeepSeek-V3-0324',
      'openrouter:x/y',
    ])
    const error = await streamError(llm.stream(llmRequest()))
    expect(error).toMatchObject({ code: 'LLM_NOT_CONFIGURED' })
    expect((error as Error).message).toMatch(/Set CHUTES_API_KEY.*Set OPENROUTER_API_KEY/)
  })

  it('without any key or fallback, the message starts with the variable to set', async () => {
    const error = await streamError(createLlm(configWith({})).stream(llmRequest()))
    expect((error as Error).message).toBe(
      'Set CHUTES_API_KEY to use chutes (deepseek-ai/DeepSeek-V3-0324): no API key is set.',
    )
  })
})

describe('listModels', () => {
  it('lists the default first, then configured providers, marking which need a key', () => {
    const catalog = listModels(configWith({ ...OPENROUTER, BERTH_FALLBACK_MODELS: 'chutes:Qwen/Qwen3-235B-A22B' }))
    expect(catalog.default).toEqual({ provider: 'openrouter', model: 'deepseek/deepseek-chat-v3-0324' })
    expect(catalog.models[0]).toEqual({
      id: 'openrouter:deepseek/deepseek-chat-v3-0324',
      provider: 'openrouter',
      model: 'deepseek/deepseek-chat-v3-0324',
      label: 'deepseek/deepseek-chat-v3-0324 (OpenRouter)',
      configured: true,
      isDefault: true,
    })
    expect(catalog.models[1]).toMatchObject({ id: 'chutes:Qwen/Qwen3-235B-A22B', configured: false })
    expect(catalog.models.filter((model) => model.isDefault)).toHaveLength(1)
    expect(new Set(catalog.models.map((model) => model.id)).size).toBe(catalog.models.length)
    expect(catalog.providers.find((provider) => provider.id === 'chutes')).toEqual({
      id: 'chutes',
      label: 'Chutes',
      configured: false,
      baseUrl: 'https://llm.chutes.ai/v1',
      keyVariable: 'CHUTES_API_KEY',
    })
    // Every listed id resolves back to the same model.
    const config = configWith(OPENROUTER)
    for (const model of catalog.models) {
      expect(resolveModel(config, { modelId: model.id })).toEqual({ provider: model.provider, model: model.model })
    }
  })
})

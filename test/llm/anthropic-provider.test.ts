import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLlm, createProvider } from '../../src/llm/create-llm.js'
import { isLlmError } from '../../src/llm/llm-error.js'
import { startScriptedAnthropic } from '../helpers/scripted-llm/scripted-anthropic.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { BASH_TOOL, callsOf, collect, configWith, finishOf, llmRequest, streamError, textOf } from './llm-test-kit.js'

let llm: ScriptedLlm

beforeEach(async () => {
  llm = await startScriptedAnthropic()
})
afterEach(async () => {
  await llm.close()
})

const anthropic = (model = 'claude-sonnet-4-0') =>
  createProvider(configWith({ ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: llm.url }), {
    provider: 'anthropic',
    model,
  })

describe('AnthropicProvider over HTTP', () => {
  it('streams thinking, then text in chunks, and finishes with usage', async () => {
    llm.enqueue({
      reasoning: 'Two plus two.',
      text: 'The answer is four.',
      chunkSize: 4,
      usage: { input: 30, output: 9 },
    })
    const parts = await collect(anthropic().stream(llmRequest()))
    expect(
      parts
        .filter((part) => part.type === 'reasoning-delta')
        .map((part) => part.text)
        .join(''),
    ).toBe('Two plus two.')
    expect(parts.filter((part) => part.type === 'text-delta').length).toBe(5)
    expect(textOf(parts)).toBe('The answer is four.')
    expect(finishOf(parts)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: 30, outputTokens: 9 },
      model: 'claude-sonnet-4-0',
      provider: 'anthropic',
    })
    const [request] = llm.requests
    expect(request?.path).toBe('/v1/messages')
    expect(request?.body).toMatchObject({
      model: 'claude-sonnet-4-0',
      stream: true,
      system: 'You are a test.',
      max_tokens: 8192,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    })
  })

  it('assembles tool_use blocks from input_json_delta fragments', async () => {
    llm.enqueue({
      text: 'Checking.',
      chunkSize: 4,
      toolCalls: [
        { id: 'toolu_1', name: 'bash', arguments: { command: 'cat "a}b.txt"' } },
        { id: 'toolu_2', name: 'bash', arguments: { command: 'pwd' } },
      ],
    })
    const parts = await collect(anthropic().stream(llmRequest({ tools: [BASH_TOOL], maxOutputTokens: 1000 })))
    expect(textOf(parts)).toBe('Checking.')
    expect(callsOf(parts)).toEqual([
      { id: 'toolu_1', name: 'bash', input: { command: 'cat "a}b.txt"' } },
      { id: 'toolu_2', name: 'bash', input: { command: 'pwd' } },
    ])
    expect(finishOf(parts).finishReason).toBe('tool-calls')
    expect(llm.requests[0]?.body).toMatchObject({
      max_tokens: 1000,
      tools: [{ name: 'bash', description: 'Run a shell command', input_schema: BASH_TOOL.inputSchema }],
    })
  })

  it('keeps a malformed tool input as raw text with inputError', async () => {
    llm.enqueue({ toolCalls: [{ id: 'toolu_x', name: 'bash', arguments: '{"command": "ls' }] })
    const [call] = callsOf(await collect(anthropic().stream(llmRequest({ tools: [BASH_TOOL] }))))
    expect(call).toMatchObject({ id: 'toolu_x', name: 'bash', input: '{"command": "ls' })
    expect(call?.inputError).toMatch(/not valid JSON/)
  })

  it('sends tool results as tool_result blocks of one user turn', async () => {
    llm.enqueue({ text: 'ok' })
    await collect(
      anthropic().stream(
        llmRequest({
          messages: [
            { role: 'user', content: 'List and count' },
            {
              role: 'assistant',
              text: 'Sure.',
              toolCalls: [
                { id: 't1', name: 'bash', input: { command: 'ls' } },
                { id: 't2', name: 'bash', input: { command: 'wc' } },
              ],
            },
            { role: 'tool', toolCallId: 't1', toolName: 'bash', content: 'a.txt' },
            { role: 'tool', toolCallId: 't2', toolName: 'bash', content: 'boom', isError: true },
          ],
        }),
      ),
    )
    expect(llm.requests[0]?.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'List and count' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Sure.' },
          { type: 'tool_use', id: 't1', name: 'bash', input: { command: 'ls' } },
          { type: 'tool_use', id: 't2', name: 'bash', input: { command: 'wc' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 't1', content: 'a.txt' },
          { type: 'tool_result', tool_use_id: 't2', content: 'boom', is_error: true },
        ],
      },
    ])
  })

  it('reports an overloaded API with provider, model and status', async () => {
    llm.enqueue({ status: 529, errorMessage: 'Overloaded' })
    const error = await streamError(anthropic().stream(llmRequest()))
    expect(error).toMatchObject({
      code: 'LLM_REQUEST_FAILED',
      provider: 'anthropic',
      httpStatus: 529,
      retryable: true,
      message: 'anthropic (claude-sonnet-4-0) answered HTTP 529: Overloaded',
    })
  })

  it('without a key says to set ANTHROPIC_API_KEY', async () => {
    const llmForClaude = createLlm(configWith({ BERTH_MODEL: 'claude-sonnet-4-0', ANTHROPIC_BASE_URL: llm.url }))
    expect(llmForClaude.provider).toBe('anthropic')
    const error = await streamError(llmForClaude.stream(llmRequest()))
    expect(isLlmError(error, 'LLM_NOT_CONFIGURED')).toBe(true)
    expect((error as Error).message).toMatch(/^Set ANTHROPIC_API_KEY/)
    expect(llm.requests).toHaveLength(0)
  })

  it('reaches Moonshot through the same protocol', async () => {
    llm.enqueue({ text: 'Kimi here' })
    const config = configWith({ MOONSHOT_API_KEY: 'mk', MOONSHOT_BASE_URL: llm.url })
    const parts = await collect(createLlm(config, { providerHint: 'use_moonshot' }).stream(llmRequest()))
    expect(textOf(parts)).toBe('Kimi here')
    expect(finishOf(parts)).toMatchObject({ provider: 'moonshot', model: 'kimi-k2-0711-preview' })
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createProvider } from '../../src/llm/create-llm.js'
import { isLlmError } from '../../src/llm/llm-error.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import {
  BASH_TOOL,
  callsOf,
  chutesAt,
  collect,
  configWith,
  finishOf,
  llmRequest,
  streamError,
  textOf,
} from './llm-test-kit.js'

let llm: ScriptedLlm

beforeEach(async () => {
  llm = await startScriptedOpenAi()
})
afterEach(async () => {
  await llm.close()
})

const chutes = (model = 'deepseek-ai/DeepSeek-V3-0324') =>
  createProvider(chutesAt(llm.url), { provider: 'chutes', model })

describe('OpenAiCompatibleProvider over HTTP', () => {
  it('streams text in chunks and finishes with the usage the server reported', async () => {
    llm.enqueue({ text: 'Hello there, how are you today?', chunkSize: 5, usage: { input: 42, output: 7 } })
    const parts = await collect(chutes().stream(llmRequest()))
    const deltas = parts.filter((part) => part.type === 'text-delta')
    expect(deltas.length).toBe(7)
    expect(textOf(parts)).toBe('Hello there, how are you today?')
    expect(finishOf(parts)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: 42, outputTokens: 7 },
      model: 'deepseek-ai/DeepSeek-V3-0324',
      provider: 'chutes',
    })
    const [request] = llm.requests
    expect(request?.headers.authorization).toBe('Bearer test-key')
    expect(request?.body).toMatchObject({
      model: 'deepseek-ai/DeepSeek-V3-0324',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'You are a test.' },
        { role: 'user', content: 'Hi' },
      ],
    })
    expect(request?.body.tools).toBeUndefined()
  })

  it('passes reasoning_content on as reasoning deltas, before the text', async () => {
    llm.enqueue({ reasoning: 'Let me think about it.', text: 'Four.' })
    const parts = await collect(chutes().stream(llmRequest()))
    const reasoning = parts.filter((part) => part.type === 'reasoning-delta').map((part) => part.text)
    expect(reasoning.join('')).toBe('Let me think about it.')
    expect(parts.findIndex((part) => part.type === 'reasoning-delta')).toBeLessThan(
      parts.findIndex((part) => part.type === 'text-delta'),
    )
    expect(textOf(parts)).toBe('Four.')
  })

  it('assembles native tool calls from streamed fragments', async () => {
    llm.enqueue({
      text: 'Running two commands.',
      chunkSize: 3,
      toolCalls: [
        { id: 'call_a', name: 'bash', arguments: { command: 'echo "{braces}" && ls -la /tmp' } },
        { id: 'call_b', name: 'list_files', arguments: { path: '.', depth: 2 } },
      ],
    })
    const parts = await collect(chutes().stream(llmRequest({ tools: [BASH_TOOL] })))
    expect(callsOf(parts)).toEqual([
      { id: 'call_a', name: 'bash', input: { command: 'echo "{braces}" && ls -la /tmp' } },
      { id: 'call_b', name: 'list_files', input: { path: '.', depth: 2 } },
    ])
    expect(finishOf(parts).finishReason).toBe('tool-calls')
    expect(llm.requests[0]?.body.tools).toEqual([
      {
        type: 'function',
        function: { name: 'bash', description: 'Run a shell command', parameters: BASH_TOOL.inputSchema },
      },
    ])
  })

  it('keeps unparsable tool arguments as raw text with inputError', async () => {
    llm.enqueue({ toolCalls: [{ id: 'call_x', name: 'bash', arguments: '{"command": "ls", ' }] })
    const [call] = callsOf(await collect(chutes().stream(llmRequest({ tools: [BASH_TOOL] }))))
    expect(call?.name).toBe('bash')
    expect(call?.input).toBe('{"command": "ls", ')
    expect(call?.inputError).toMatch(/not valid JSON/)
  })

  it('sends the history: tool calls on the assistant message, results as tool messages, images as data URLs', async () => {
    llm.enqueue({ text: 'ok' })
    await collect(
      chutes().stream(
        llmRequest({
          messages: [
            { role: 'user', content: 'Look', images: [{ mediaType: 'image/png', base64: 'AAAA' }] },
            { role: 'assistant', text: '', toolCalls: [{ id: 'c1', name: 'bash', input: { command: 'ls' } }] },
            { role: 'tool', toolCallId: 'c1', toolName: 'bash', content: 'a.txt' },
            { role: 'assistant', text: 'There is a.txt', toolCalls: [] },
            { role: 'user', content: 'Thanks' },
          ],
        }),
      ),
    )
    expect(llm.requests[0]?.body.messages).toEqual([
      { role: 'system', content: 'You are a test.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'bash', arguments: '{"command":"ls"}' } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'a.txt' },
      { role: 'assistant', content: 'There is a.txt' },
      { role: 'user', content: 'Thanks' },
    ])
  })

  it('reports an HTTP error with provider, model and status', async () => {
    llm.enqueue({ status: 401, errorMessage: 'Invalid API key' })
    const error = await streamError(chutes().stream(llmRequest()))
    expect(isLlmError(error, 'LLM_REQUEST_FAILED')).toBe(true)
    expect(error).toMatchObject({
      provider: 'chutes',
      model: 'deepseek-ai/DeepSeek-V3-0324',
      httpStatus: 401,
      retryable: false,
      message: 'chutes (deepseek-ai/DeepSeek-V3-0324) answered HTTP 401: Invalid API key',
    })
  })

  it('treats an error event inside the stream as a retryable failure', async () => {
    llm.enqueue({ text: 'partial', streamError: true, errorMessage: 'No instances available' })
    const seen: unknown[] = []
    const error = await streamError(chutes().stream(llmRequest()), seen as never[])
    expect(error).toMatchObject({ code: 'LLM_REQUEST_FAILED', retryable: true })
    expect((error as Error).message).toMatch(/No instances available/)
  })

  it('without a key: creating works, the first stream says which variable to set, nothing is sent', async () => {
    const config = configWith({ CHUTES_BASE_URL: llm.url })
    const provider = createProvider(config, { provider: 'chutes', model: 'deepseek-ai/DeepSeek-V3-0324' })
    const error = await streamError(provider.stream(llmRequest()))
    expect(isLlmError(error, 'LLM_NOT_CONFIGURED')).toBe(true)
    expect((error as Error).message).toMatch(/^Set CHUTES_API_KEY to use chutes/)
    expect(llm.requests).toHaveLength(0)
  })

  it('talks to a keyless OpenAI-compatible server given only OPENAI_BASE_URL', async () => {
    llm.enqueue({ text: 'local model here' })
    const provider = createProvider(configWith({ OPENAI_BASE_URL: llm.url }), {
      provider: 'openai',
      model: 'llama3.1:8b',
    })
    const parts = await collect(provider.stream(llmRequest()))
    expect(textOf(parts)).toBe('local model here')
    expect(llm.requests[0]?.model).toBe('llama3.1:8b')
  })
})

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLlm } from '../../src/llm/create-llm.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { BASH_TOOL, callsOf, chutesAt, collect, finishOf, llmRequest, textOf } from './llm-test-kit.js'

let llm: ScriptedLlm

beforeEach(async () => {
  llm = await startScriptedOpenAi()
})
afterEach(async () => {
  await llm.close()
})

const jsonLlm = () => createLlm(chutesAt(llm.url, { BERTH_TOOL_CALL_MODE: 'json' }))
const ask = (messages = llmRequest().messages) =>
  collect(jsonLlm().stream(llmRequest({ tools: [BASH_TOOL], messages })))

describe('JSON tool-call mode over HTTP', () => {
  it('puts the tools in the system prompt and sends no native tools', async () => {
    llm.enqueue({ rawText: 'Hello!' })
    await ask()
    const body = llm.requests[0]?.body as { tools?: unknown; messages: { role: string; content: string }[] }
    expect(body.tools).toBeUndefined()
    const system = body.messages[0]
    expect(system?.role).toBe('system')
    expect(system?.content).toContain('You are a test.')
    expect(system?.content).toContain('### bash\nRun a shell command')
    expect(system?.content).toContain('{"tool_call": {"id": "call_1", "name": "<tool name>"')
  })

  it('streams the text before a fenced call and returns the call, not its JSON', async () => {
    llm.enqueue({
      rawText:
        'I will list the files first.\n```json\n{"tool_call": {"id": "call_7", "name": "bash", "arguments": {"command": "ls {a,b}"}}}\n```',
      chunkSize: 4,
    })
    const parts = await ask()
    const deltas = parts.filter((part) => part.type === 'text-delta').map((part) => part.text)
    expect(deltas.length).toBeGreaterThan(3) // the prose streamed, chunk by chunk
    expect(deltas.join('')).toBe('I will list the files first.\n')
    expect(callsOf(parts)).toEqual([{ id: 'call_7', name: 'bash', input: { command: 'ls {a,b}' } }])
    expect(finishOf(parts).finishReason).toBe('tool-calls')
  })

  it('recovers a truncated call (missing closing braces) and gives it an id', async () => {
    llm.enqueue({
      rawText: '{"tool_call": {"name": "bash", "arguments": {"command": "echo hi"',
      finishReason: 'length',
    })
    const parts = await ask()
    const [call] = callsOf(parts)
    expect(call).toMatchObject({ name: 'bash', input: { command: 'echo hi' } })
    expect(call?.id).toMatch(/^call_/)
    expect(textOf(parts)).toBe('')
  })

  it('reports malformed call JSON as an inputError instead of dropping it', async () => {
    llm.enqueue({ rawText: 'Trying:\n```json\n{"tool_call": {"name": "bash", "arguments": {"command": ls}}}\n```' })
    const parts = await ask()
    const [call] = callsOf(parts)
    expect(call?.name).toBe('bash')
    expect(call?.inputError).toMatch(/not valid JSON/)
    expect(textOf(parts)).toBe('Trying:\n')
  })

  it('never drops a plain answer, braces and code fences included', async () => {
    const answer = 'The result is {x: 1}.\n```python\nprint({"a": 1})\n```\nThat is all.'
    llm.enqueue({ rawText: answer, chunkSize: 3 })
    const parts = await ask()
    expect(textOf(parts)).toBe(answer)
    expect(callsOf(parts)).toEqual([])
    expect(finishOf(parts).finishReason).toBe('stop')
  })

  it('keeps the text on both sides of several calls', async () => {
    llm.enqueue({
      rawText:
        'First {"tool_call": {"id": "a", "name": "bash", "arguments": {"command": "pwd"}}} then ' +
        '{"tool_call": {"id": "b", "name": "bash", "arguments": {"command": "ls",}}} and wait.',
    })
    const parts = await ask()
    expect(callsOf(parts).map((call) => call.id)).toEqual(['a', 'b'])
    expect(textOf(parts)).toBe('First \n\nthen and wait.')
  })

  it('replays earlier calls and results as text', async () => {
    llm.enqueue({ rawText: 'Done.' })
    await ask([
      { role: 'user', content: 'List files' },
      { role: 'assistant', text: 'Listing.', toolCalls: [{ id: 'c1', name: 'bash', input: { command: 'ls' } }] },
      { role: 'tool', toolCallId: 'c1', toolName: 'bash', content: 'a.txt' },
    ])
    const messages = llm.requests[0]?.body.messages as { role: string; content: string }[]
    expect(messages.slice(1)).toEqual([
      { role: 'user', content: 'List files' },
      {
        role: 'assistant',
        content: 'Listing.\n\n```json\n{"tool_call": {"id": "c1", "name": "bash", "arguments": {"command":"ls"}}}\n```',
      },
      { role: 'user', content: '[Tool result for call c1 (bash)]\na.txt' },
    ])
  })
})

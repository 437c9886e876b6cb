import { describe, expect, it } from 'vitest'
import { HistoryBuilder, INTERRUPTED_RESULT, rebuildHistory } from '../../src/agent/history.js'
import { pythonJsonDumps } from '../../src/core/python-json.js'
import type { StoredEvent } from '../../src/store/types.js'

let seq = 0
/** A stored event as the Python ii-agent writes it: `json.dumps` of `{type, content}`. */
function stored(type: string, content: unknown): StoredEvent {
  seq++
  return {
    id: `e-${seq}`,
    sessionId: 's',
    seq,
    timestamp: '2025-07-11 08:11:12.283688',
    type,
    payload: pythonJsonDumps({ type, content }),
  }
}

describe('rebuildHistory', () => {
  it('rebuilds a session recorded by the Python ii-agent', () => {
    const messages = rebuildHistory([
      stored('user_message', { text: 'Build a caf\u00e9 site', files: ['uploaded_files/menu.pdf'] }),
      stored('tool_call', { tool_call_id: 'toolu_1', tool_name: 'bash', tool_input: { command: 'ls' } }),
      stored('tool_result', { tool_call_id: 'toolu_1', tool_name: 'bash', result: 'menu.pdf\n' }),
      stored('file_edit', { path: 'index.html', content: '<h1>hi</h1>', total_lines: 1 }),
      stored('tool_call', {
        tool_call_id: 'toolu_2',
        tool_name: 'static_deploy',
        tool_input: { file_path: 'index.html' },
      }),
      stored('tool_result', {
        tool_call_id: 'toolu_2',
        tool_name: 'static_deploy',
        result: [
          { type: 'text', text: 'deployed' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
        ],
      }),
      stored('agent_response', { text: 'Done: http://localhost:8000/workspace/s/index.html' }),
    ])
    expect(messages).toEqual([
      { role: 'user', content: 'Build a caf\u00e9 site\n\nAttached files:\n - uploaded_files/menu.pdf' },
      { role: 'assistant', text: '', toolCalls: [{ id: 'toolu_1', name: 'bash', input: { command: 'ls' } }] },
      { role: 'tool', toolCallId: 'toolu_1', toolName: 'bash', content: 'menu.pdf\n' },
      {
        role: 'assistant',
        text: '',
        toolCalls: [{ id: 'toolu_2', name: 'static_deploy', input: { file_path: 'index.html' } }],
      },
      { role: 'tool', toolCallId: 'toolu_2', toolName: 'static_deploy', content: 'deployed\n[image]' },
      { role: 'assistant', text: 'Done: http://localhost:8000/workspace/s/index.html', toolCalls: [] },
    ])
  })

  it('keeps the text of a step with its calls (agent_message, or agent_response as older berth stored it)', () => {
    for (const type of ['agent_message', 'agent_response']) {
      const messages = rebuildHistory([
        stored('user_message', { text: 'go' }),
        stored(type, { text: 'Looking.' }),
        stored('tool_call', { tool_call_id: 'a', tool_name: 'bash', tool_input: { command: 'ls' } }),
        stored('tool_result', { tool_call_id: 'a', tool_name: 'bash', result: 'x' }),
      ])
      expect(messages[1], type).toEqual({
        role: 'assistant',
        text: 'Looking.',
        toolCalls: [{ id: 'a', name: 'bash', input: { command: 'ls' } }],
      })
    }
  })

  it('keeps the text of a step with its calls; a call after a result starts a new assistant message', () => {
    const messages = rebuildHistory([
      stored('user_message', { text: 'go' }),
      stored('agent_thinking', { text: 'I should look first' }),
      stored('agent_message', { text: 'Looking.' }),
      stored('tool_call', { tool_call_id: 'a', tool_name: 'bash', tool_input: { command: 'ls' } }),
      stored('tool_result', { tool_call_id: 'a', tool_name: 'bash', result: 'x' }),
      stored('agent_thinking', { text: 'now write' }),
      stored('tool_call', { tool_call_id: 'b', tool_name: 'bash', tool_input: { command: 'touch y' } }),
      stored('tool_result', { tool_call_id: 'b', tool_name: 'bash', result: '', is_error: true }),
      stored('agent_response', { text: 'Done.' }),
      stored('stream_complete', { status: 'completed' }),
    ])
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool', 'assistant'])
    expect(messages[1]).toEqual({
      role: 'assistant',
      text: 'Looking.',
      toolCalls: [{ id: 'a', name: 'bash', input: { command: 'ls' } }],
    })
    expect(messages[4]).toMatchObject({ toolCallId: 'b', isError: true })
    // Reasoning is never sent back to a model.
    expect(JSON.stringify(messages)).not.toContain('now write')
  })

  it('replays the parallel calls of one step as consecutive steps', () => {
    const messages = rebuildHistory([
      stored('user_message', { text: 'two at once' }),
      stored('agent_response', { text: 'Both.' }),
      stored('tool_call', { tool_call_id: 'p1', tool_name: 'bash', tool_input: { command: 'a' } }),
      stored('tool_result', { tool_call_id: 'p1', tool_name: 'bash', result: 'A' }),
      stored('tool_call', { tool_call_id: 'p2', tool_name: 'bash', tool_input: { command: 'b' } }),
      stored('tool_result', { tool_call_id: 'p2', tool_name: 'bash', result: 'B' }),
    ])
    expect(messages).toEqual([
      { role: 'user', content: 'two at once' },
      { role: 'assistant', text: 'Both.', toolCalls: [{ id: 'p1', name: 'bash', input: { command: 'a' } }] },
      { role: 'tool', toolCallId: 'p1', toolName: 'bash', content: 'A' },
      { role: 'assistant', text: '', toolCalls: [{ id: 'p2', name: 'bash', input: { command: 'b' } }] },
      { role: 'tool', toolCallId: 'p2', toolName: 'bash', content: 'B' },
    ])
  })

  it('gives a call cut off by an interrupt a synthetic result, so the next query is valid', () => {
    const messages = rebuildHistory([
      stored('user_message', { text: 'sleep' }),
      stored('tool_call', { tool_call_id: 'c1', tool_name: 'bash', tool_input: { command: 'sleep 100' } }),
      stored('agent_response_interrupted', { text: '', reason: 'cancelled' }),
      stored('stream_complete', { status: 'interrupted' }),
      stored('user_message', { text: 'never mind' }),
    ])
    expect(messages).toEqual([
      { role: 'user', content: 'sleep' },
      { role: 'assistant', text: '', toolCalls: [{ id: 'c1', name: 'bash', input: { command: 'sleep 100' } }] },
      { role: 'tool', toolCallId: 'c1', toolName: 'bash', content: INTERRUPTED_RESULT, isError: true },
      { role: 'user', content: 'never mind' },
    ])
  })

  it('closes calls left open by a crash (no end events at all) and after an error', () => {
    const crashed = rebuildHistory([
      stored('user_message', { text: 'a' }),
      stored('tool_call', { tool_call_id: 'c1', tool_name: 'bash', tool_input: { command: 'make' } }),
    ])
    expect(crashed.at(-1)).toMatchObject({ role: 'tool', toolCallId: 'c1', content: INTERRUPTED_RESULT })

    const failed = rebuildHistory([
      stored('user_message', { text: 'a' }),
      stored('tool_call', { tool_call_id: 'c1', tool_name: 'bash', tool_input: {} }),
      stored('error', { message: 'chutes answered HTTP 500', error_code: 'LLM_REQUEST_FAILED' }),
      stored('user_message', { text: 'b' }),
    ])
    expect(failed.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'user'])
  })

  it('keeps the partial text of an interrupted answer', () => {
    const messages = rebuildHistory([
      stored('user_message', { text: 'write a poem' }),
      stored('agent_response_interrupted', { text: 'Roses are', reason: 'cancelled' }),
      stored('user_message', { text: 'shorter' }),
    ])
    expect(messages[1]).toEqual({ role: 'assistant', text: 'Roses are', toolCalls: [] })
  })

  it('drops results without a call and calls recorded twice, names unnamed calls', () => {
    const messages = rebuildHistory([
      stored('user_message', { text: 'x' }),
      stored('tool_result', { tool_call_id: 'ghost', tool_name: 'bash', result: 'boo' }),
      stored('tool_call', { tool_call_id: 'd', tool_name: 'bash', tool_input: { command: 'ls' } }),
      stored('tool_call', { tool_call_id: 'd', tool_name: 'bash', tool_input: { command: 'ls' } }),
      stored('tool_result', { tool_call_id: 'd', tool_name: 'bash', result: 'once' }),
      stored('tool_result', { tool_call_id: 'd', tool_name: 'bash', result: 'twice' }),
      stored('tool_call', { tool_name: 'sequential_thinking', tool_input: { thought: 't' } }),
      stored('tool_result', { tool_name: 'sequential_thinking', result: 'ok' }),
    ])
    expect(messages).toEqual([
      { role: 'user', content: 'x' },
      { role: 'assistant', text: '', toolCalls: [{ id: 'd', name: 'bash', input: { command: 'ls' } }] },
      { role: 'tool', toolCallId: 'd', toolName: 'bash', content: 'once' },
      {
        role: 'assistant',
        text: '',
        toolCalls: [{ id: 'call_unnamed_1', name: 'sequential_thinking', input: { thought: 't' } }],
      },
      { role: 'tool', toolCallId: 'call_unnamed_1', toolName: 'sequential_thinking', content: 'ok' },
    ])
  })

  it('replays a call with unreadable arguments as the model wrote them', () => {
    const builder = new HistoryBuilder()
    builder.add('user_message', { text: 'x' })
    builder.add('tool_call', {
      tool_call_id: 'm',
      tool_name: 'bash',
      tool_input: '{"command": "ls"',
      input_error: 'Unexpected end of JSON input',
    })
    expect(builder.hasOpenCalls).toBe(true)
    builder.add('tool_result', { tool_call_id: 'm', tool_name: 'bash', result: 'Error: bad JSON', is_error: true })
    expect(builder.hasOpenCalls).toBe(false)
    expect(builder.messages()[1]).toEqual({
      role: 'assistant',
      text: '',
      toolCalls: [{ id: 'm', name: 'bash', input: '{"command": "ls"', inputError: 'Unexpected end of JSON input' }],
    })
  })

  it('skips an unparsable payload instead of failing the whole history', () => {
    const broken: StoredEvent = { ...stored('agent_response', {}), payload: '{not json' }
    expect(rebuildHistory([stored('user_message', { text: 'hi' }), broken])).toEqual([{ role: 'user', content: 'hi' }])
  })
})

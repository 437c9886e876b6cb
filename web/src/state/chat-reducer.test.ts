import { describe, expect, it } from 'vitest'
import type { Frame } from '../lib/api-types.js'
import { addLocalUserMessage, applyFrames } from './chat-reducer.js'
import { contentAt, emptyChat } from './chat-state.js'

let seq = 0
const stored = (type: string, content: unknown): Frame => ({
  type,
  content,
  seq: ++seq,
  timestamp: '2026-01-01T00:00:00+00:00',
})
const live = (type: string, content: unknown): Frame => ({ type, content })

describe('chat reducer', () => {
  it('turns a task into a user message, tool cards with results, diffs and a deploy link, and a final answer', () => {
    seq = 0
    const frames = [
      stored('user_message', { text: 'Build a site', files: ['uploaded_files/logo.png'] }),
      stored('agent_response', { text: 'I will write it.' }),
      stored('tool_call', {
        tool_call_id: 'c1',
        tool_name: 'str_replace_editor',
        tool_input: { command: 'create', path: 'site/index.html', file_text: 'v1\n' },
      }),
      stored('file_edit', { path: 'site/index.html', content: 'v1\n', total_lines: 1 }),
      stored('tool_result', { tool_call_id: 'c1', tool_name: 'str_replace_editor', result: 'File created' }),
      stored('tool_call', {
        tool_call_id: 'c2',
        tool_name: 'str_replace_editor',
        tool_input: { command: 'str_replace', path: '/abs/ws/site/index.html', old_str: 'v1', new_str: 'v2' },
      }),
      stored('file_edit', { path: 'site/index.html', content: 'v2\n', total_lines: 1 }),
      stored('tool_result', { tool_call_id: 'c2', tool_name: 'str_replace_editor', result: 'edited' }),
      stored('tool_call', { tool_call_id: 'c3', tool_name: 'static_deploy', tool_input: { file_path: 'site' } }),
      stored('tool_result', {
        tool_call_id: 'c3',
        tool_name: 'static_deploy',
        result: 'http://h:1/workspace/s1/site/\nThis folder holds 1 file',
      }),
      stored('tool_call', { tool_call_id: 'c4', tool_name: 'bash', tool_input: { command: 'false' } }),
      stored('tool_result', { tool_call_id: 'c4', tool_name: 'bash', result: 'exit 1', is_error: true }),
      stored('agent_response', { text: 'Deployed.' }),
      stored('stream_complete', { status: 'completed' }),
    ]
    const state = applyFrames(emptyChat, frames)
    expect(state.items.map((i) => i.kind)).toEqual(['user', 'assistant', 'tool', 'tool', 'tool', 'tool', 'assistant'])
    const [user, , create, replace, deploy, bash, last] = state.items
    expect(user).toMatchObject({ text: 'Build a site', files: ['uploaded_files/logo.png'], seq: 1 })
    expect(create?.kind === 'tool' && create.tool).toMatchObject({
      status: 'done',
      edit: { before: null, after: 'v1\n' },
    })
    // The second edit is matched by path suffix and diffs against the first version.
    expect(replace?.kind === 'tool' && replace.tool.edit).toEqual({
      path: 'site/index.html',
      before: 'v1\n',
      after: 'v2\n',
    })
    expect(deploy?.kind === 'tool' && deploy.tool.deployUrl).toBe('http://h:1/workspace/s1/site/')
    expect(bash?.kind === 'tool' && bash.tool.status).toBe('error')
    expect(last).toMatchObject({ kind: 'assistant', text: 'Deployed.', streaming: false })
    expect(state.deployUrl).toBe('http://h:1/workspace/s1/site/')
    expect(contentAt(state, 'site/index.html')).toBe('v2\n')
    expect(state.lastSeq).toBe(14)
    expect(state.running).toBe(false)
  })

  it('drops stored events it already has, so a history page and a resumed socket can overlap', () => {
    seq = 0
    const a = stored('user_message', { text: 'hi' })
    const b = stored('agent_response', { text: 'hello' })
    const once = applyFrames(emptyChat, [a, b])
    const twice = applyFrames(once, [b, a, b])
    expect(twice.items).toHaveLength(2)
    expect(twice.items).toEqual(once.items)
  })

  it('streams deltas into one item that the stored text then replaces', () => {
    seq = 0
    let state = applyFrames(emptyChat, [live('processing', {}), live('agent_thinking_delta', { text: 'Let me ' })])
    state = applyFrames(state, [
      live('agent_thinking_delta', { text: 'think' }),
      live('agent_response_delta', { text: 'Hel' }),
    ])
    state = applyFrames(state, [live('agent_response_delta', { text: 'lo wor' })])
    expect(state.running).toBe(true)
    expect(state.items).toMatchObject([
      { kind: 'thinking', text: 'Let me think', streaming: true },
      { kind: 'assistant', text: 'Hello wor', streaming: true, seq: null },
    ])
    const key = state.items[1]?.key
    state = applyFrames(state, [
      stored('agent_thinking', { text: 'Let me think.' }),
      stored('agent_response', { text: 'Hello world!' }),
    ])
    expect(state.items).toMatchObject([
      { kind: 'thinking', text: 'Let me think.', streaming: false },
      { kind: 'assistant', text: 'Hello world!', streaming: false, seq: 2, key },
    ])
    // Tokens of the next step that overtook the stored event stay as a new streaming item.
    state = applyFrames(state, [live('agent_response_delta', { text: 'Step one. Step' })])
    state = applyFrames(state, [stored('agent_message', { text: 'Step one.' })])
    expect(state.running).toBe(true)
    expect(state.items.slice(2)).toMatchObject([
      { kind: 'assistant', text: 'Step one.', streaming: false },
      { kind: 'assistant', text: ' Step', streaming: true },
    ])
  })

  it('shows live tool output, then the stored result', () => {
    seq = 0
    let state = applyFrames(emptyChat, [
      stored('tool_call', { tool_call_id: 'b', tool_name: 'bash', tool_input: { command: 'ls' } }),
    ])
    state = applyFrames(state, [
      live('tool_output_delta', { tool_call_id: 'b', text: 'a\n' }),
      live('tool_output_delta', { tool_call_id: 'b', text: 'b\n' }),
    ])
    expect(state.items[0]).toMatchObject({ tool: { status: 'running', output: 'a\nb\n', result: null } })
    state = applyFrames(state, [stored('tool_result', { tool_call_id: 'b', tool_name: 'bash', result: 'a\nb\n' })])
    expect(state.items[0]).toMatchObject({ tool: { status: 'done', result: 'a\nb\n' } })
  })

  it('confirms the local copy of a sent message instead of doubling it, and marks a refused one', () => {
    seq = 0
    let state = addLocalUserMessage(emptyChat, 'first', [])
    state = applyFrames(state, [live('processing', {})])
    expect(state.items[0]).toMatchObject({ delivery: 'sent', seq: null })
    // After a reconnect the server sends our own message from the log.
    state = applyFrames(state, [stored('user_message', { text: 'first' })])
    expect(state.items).toHaveLength(1)
    expect(state.items[0]).toMatchObject({ seq: 1, delivery: 'sent' })

    state = addLocalUserMessage(state, 'second', [])
    state = applyFrames(state, [live('error', { message: 'busy', error_code: 'QUERY_IN_PROGRESS' })])
    expect(state.items[1]).toMatchObject({ delivery: 'failed' })
    expect(state.items[2]).toMatchObject({ kind: 'notice', tone: 'error', code: 'QUERY_IN_PROGRESS' })
  })

  it('closes what was open when a run is cancelled', () => {
    seq = 0
    const state = applyFrames(emptyChat, [
      live('processing', {}),
      stored('tool_call', { tool_call_id: 'x', tool_name: 'bash', tool_input: { command: 'sleep 100' } }),
      live('agent_response_delta', { text: 'par' }),
      stored('agent_response_interrupted', { text: 'partial', reason: 'cancelled' }),
      stored('stream_complete', { status: 'interrupted' }),
    ])
    expect(state.items).toMatchObject([
      { kind: 'tool', tool: { status: 'interrupted' } },
      { kind: 'assistant', text: 'partial', interrupted: 'cancelled', streaming: false },
    ])
    expect(state.running).toBe(false)
  })

  it('ends the running state on a run end the server could not store, and marks its error as not saved', () => {
    seq = 0
    let state = addLocalUserMessage(emptyChat, 'write a lot', [])
    state = applyFrames(state, [
      live('processing', {}),
      stored('tool_call', { tool_call_id: 'w', tool_name: 'bash', tool_input: { command: 'yes' } }),
      live('agent_response_delta', { text: 'Writing a long' }),
    ])
    expect(state.running).toBe(true)
    const message = 'The run stopped and its end could not be saved: the disk is full (SQLITE_FULL).'
    // An old-style error frame on its own (a client that ignores the live stream_complete) already ends the run.
    const afterError = applyFrames(state, [live('error', { message, error_code: 'DISK_FULL', stored: false })])
    expect(afterError.running).toBe(false)
    state = applyFrames(afterError, [
      live('stream_complete', { status: 'failed', turns: 1, stored: false }),
      // A heartbeat or a late delta changes nothing.
      live('heartbeat', {}),
    ])
    expect(state.running).toBe(false)
    expect(state.lastSeq).toBe(1)
    expect(state.items).toMatchObject([
      { kind: 'user', delivery: 'sent' },
      { kind: 'tool', tool: { status: 'interrupted' } },
      { kind: 'assistant', text: 'Writing a long', streaming: false },
      { kind: 'notice', tone: 'error', code: 'DISK_FULL', text: message, unsaved: true, seq: null },
    ])
    // A refused query (a live error without stored: false) is not a run end: nothing was running yet.
    const refused = applyFrames(addLocalUserMessage(emptyChat, 'again', []), [
      live('error', { message: 'busy', error_code: 'QUERY_IN_PROGRESS' }),
    ])
    expect(refused.items).toMatchObject([{ delivery: 'failed' }, { kind: 'notice', unsaved: false }])
  })

  it('keeps error codes of stored errors for plain-words advice', () => {
    seq = 0
    const state = applyFrames(emptyChat, [
      stored('error', { message: 'Set CHUTES_API_KEY', error_code: 'LLM_NOT_CONFIGURED' }),
    ])
    expect(state.items[0]).toMatchObject({ kind: 'notice', code: 'LLM_NOT_CONFIGURED', text: 'Set CHUTES_API_KEY' })
  })
})

import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { INTERRUPTED_RESULT } from '../../src/agent/history.js'
import type { TransientEvent } from '../../src/core/events.js'
import { processesWith, uniqueSleep } from '../helpers/processes.js'
import { startScriptedAnthropic } from '../helpers/scripted-llm/scripted-anthropic.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventsOf } from './fixtures/harness.js'
import { openScriptedRuntime, type ScriptedRuntime } from './fixtures/scripted-runtime.js'

const PAGE = '<!doctype html>\n<h1>Otters</h1>\n<p>They hold hands.</p>\n'

let llm: ScriptedLlm
const opened: ScriptedRuntime[] = []
afterEach(async () => {
  for (const runtime of opened.splice(0)) await runtime.close()
  await llm?.close()
})

async function open(root: string, env?: Record<string, string>): Promise<ScriptedRuntime> {
  const runtime = await openScriptedRuntime(root, llm.url, env ? { env } : {})
  opened.push(runtime)
  return runtime
}

type ChatMessage = {
  role: string
  content?: unknown
  tool_calls?: { id: string; function: { name: string; arguments: string } }[]
  tool_call_id?: string
}
const messagesOf = (index: number) => (llm.requests[index]?.body.messages ?? []) as ChatMessage[]

describe('a scripted task through the real OpenAI SDK', () => {
  it('edits, runs bash, deploys and answers; after a restart the session continues with its full history', async () => {
    llm = await startScriptedOpenAi()
    const root = await tempDir()
    const first = await open(root)
    const sessionId = randomUUID()
    llm.enqueue(
      {
        reasoning: 'A page first.',
        text: 'I will write the page.',
        toolCalls: [
          {
            id: 'call_edit',
            name: 'str_replace_editor',
            arguments: { command: 'create', path: 'site/index.html', file_text: PAGE },
          },
        ],
      },
      { toolCalls: [{ id: 'call_bash', name: 'bash', arguments: { command: 'wc -l < site/index.html' } }] },
      { toolCalls: [{ id: 'call_deploy', name: 'static_deploy', arguments: { file_path: 'site/index.html' } }] },
      { text: 'Your page is live.', usage: { input: 50, output: 7 } },
    )
    const live: TransientEvent[] = []
    first.runs.onTransient(sessionId, (event) => live.push(event))
    await first.runs.start({
      sessionId,
      text: 'Make a page about otters',
      deviceId: 'web',
      publicUrl: 'https://berth.example',
    })
    const outcome = await first.runs.wait(sessionId)
    expect(outcome).toMatchObject({ status: 'completed', answer: 'Your page is live.', turns: 4 })

    const workspace = first.runtime.workspaces.dirFor(sessionId)
    expect(await readFile(join(workspace, 'site/index.html'), 'utf8')).toBe(PAGE)
    const events = await eventsOf(first.runtime.store, sessionId)
    expect(events.map((e) => e.type)).toEqual([
      'user_message',
      'agent_thinking',
      'agent_message',
      'tool_call',
      'file_edit',
      'tool_result',
      'tool_call',
      'tool_result',
      'tool_call',
      'tool_result',
      'agent_response',
      'stream_complete',
    ])
    // Reference content shapes (ii-agent-interfaces.md §2).
    expect(events[0]).toEqual({ type: 'user_message', content: { text: 'Make a page about otters', files: [] } })
    expect(events[1]).toEqual({ type: 'agent_thinking', content: { text: 'A page first.' } })
    expect(events[3]).toEqual({
      type: 'tool_call',
      content: {
        tool_call_id: 'call_edit',
        tool_name: 'str_replace_editor',
        tool_input: { command: 'create', path: 'site/index.html', file_text: PAGE },
      },
    })
    expect(events[4]).toMatchObject({ type: 'file_edit', content: { content: PAGE, total_lines: 3 } })
    expect(events[5]?.content).toMatchObject({ tool_call_id: 'call_edit', tool_name: 'str_replace_editor' })
    expect(events[7]?.content).toMatchObject({ tool_call_id: 'call_bash', tool_name: 'bash' })
    expect(String(events[7]?.content.result)).toContain('3')
    expect(events[9]?.content).toEqual({
      tool_call_id: 'call_deploy',
      tool_name: 'static_deploy',
      result: `https://berth.example/workspace/${sessionId}/site/index.html`,
    })
    expect(events[10]).toEqual({ type: 'agent_response', content: { text: 'Your page is live.' } })
    expect(events[11]).toMatchObject({ type: 'stream_complete', content: { status: 'completed', turns: 4 } })
    expect(
      live
        .filter((e) => e.type === 'agent_response_delta')
        .map((e) => e.content.text)
        .join(''),
    ).toBe('I will write the page.Your page is live.')
    expect(live.some((e) => e.type === 'tool_output_delta')).toBe(true)

    // The last request of the first run carried the whole run so far, through the SDK's wire format.
    expect(llm.requests).toHaveLength(4)
    const lastOfFirstRun = messagesOf(3)
    expect(lastOfFirstRun.map((m) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'assistant',
      'tool',
      'assistant',
      'tool',
    ])
    expect(lastOfFirstRun[2]).toMatchObject({ content: 'I will write the page.', tool_calls: [{ id: 'call_edit' }] })

    // "Restart": close everything, open the same root in a new runtime with a new run manager.
    await first.close()
    const second = await open(root)
    expect((await second.runtime.store.getSession(sessionId))?.status).toBe('idle')
    llm.enqueue({ text: 'It has 3 lines.' })
    await second.runs.start({ sessionId, text: 'How long is it?' })
    expect(await second.runs.wait(sessionId)).toMatchObject({ status: 'completed', answer: 'It has 3 lines.' })
    const continued = messagesOf(4)
    // Everything but the system prompt (which names this run's public URL) is the first run's history.
    expect(continued[0]?.role).toBe('system')
    expect(continued.slice(1, lastOfFirstRun.length)).toEqual(lastOfFirstRun.slice(1))
    expect(continued.slice(lastOfFirstRun.length)).toEqual([
      { role: 'assistant', content: 'Your page is live.' },
      { role: 'user', content: 'How long is it?' },
    ])
  })

  it('runs through the real Anthropic SDK too, with tool_use and tool_result blocks in the history', async () => {
    llm = await startScriptedAnthropic()
    const root = await tempDir()
    const scripted = await openScriptedRuntime(root, null, {
      env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: llm.url, BERTH_MODEL: 'anthropic:claude-sonnet-4-0' },
    })
    opened.push(scripted)
    const sessionId = randomUUID()
    llm.enqueue(
      { text: 'Checking.', toolCalls: [{ id: 'toolu_1', name: 'bash', arguments: { command: 'echo otter' } }] },
      { text: 'It printed otter.' },
    )
    await scripted.runs.start({ sessionId, text: 'Run echo' })
    expect(await scripted.runs.wait(sessionId)).toMatchObject({ status: 'completed', answer: 'It printed otter.' })
    expect(llm.requests[1]?.body.system).toBeDefined()
    const messages = llm.requests[1]?.body.messages as {
      role: string
      content: { type: string; [k: string]: unknown }[]
    }[]
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user'])
    expect(messages[1]?.content).toContainEqual(
      expect.objectContaining({ type: 'tool_use', id: 'toolu_1', name: 'bash' }),
    )
    expect(messages[2]?.content).toContainEqual(
      expect.objectContaining({ type: 'tool_result', tool_use_id: 'toolu_1' }),
    )
    expect(JSON.stringify(messages[2]?.content)).toContain('otter')
  })

  it('passes the history through the configured context manager before each model call', async () => {
    llm = await startScriptedOpenAi()
    const { runs, runtime } = await open(await tempDir(), {
      BERTH_CONTEXT_MANAGER: 'standard',
      BERTH_CONTEXT_TOKENS: '1000',
    })
    const sessionId = randomUUID()
    const big = { name: 'bash', arguments: { command: "head -c 3000 /dev/zero | tr '\\0' x" } }
    llm.enqueue(
      { toolCalls: [{ id: 'b1', ...big }] },
      { toolCalls: [{ id: 'b2', ...big }] },
      { toolCalls: [{ id: 'b3', ...big }] },
      { text: 'Done.' },
    )
    await runs.start({ sessionId, text: 'Print a lot' })
    expect(await runs.wait(sessionId)).toMatchObject({ status: 'completed' })
    // Over budget, tool output older than the last three turns is replaced; the newest stays whole.
    const tools = messagesOf(3).filter((m) => m.role === 'tool')
    expect(tools.map((m) => m.tool_call_id)).toEqual(['b1', 'b2', 'b3'])
    expect(String(tools[0]?.content).startsWith('[Truncated')).toBe(true)
    expect(String(tools[2]?.content).includes('x'.repeat(3000))).toBe(true)
    // The log keeps everything.
    const results = (await eventsOf(runtime.store, sessionId)).filter((e) => e.type === 'tool_result')
    expect(String(results[0]?.content.result).includes('x'.repeat(3000))).toBe(true)
  })

  it('cancels a hanging model call within a second, aborting the HTTP request', async () => {
    llm = await startScriptedOpenAi()
    const { runs, runtime } = await open(await tempDir())
    const sessionId = randomUUID()
    llm.enqueue({ text: 'Let me think', hang: true })
    const deltas: string[] = []
    runs.onTransient(sessionId, (event) => {
      if (event.type === 'agent_response_delta') deltas.push(event.content.text)
    })
    await runs.start({ sessionId, text: 'Think forever' })
    await llm.waitForRequests(1)
    await expect.poll(() => deltas.join('')).toBe('Let me think')

    await expect(runs.start({ sessionId, text: 'me too' })).rejects.toMatchObject({ code: 'QUERY_IN_PROGRESS' })
    const started = performance.now()
    expect(await runs.cancel(sessionId)).toBe(true)
    expect(performance.now() - started).toBeLessThan(1000)
    await llm.waitForAborts(1, 1000)
    const events = await eventsOf(runtime.store, sessionId)
    expect(events.map((e) => e.type)).toEqual(['user_message', 'agent_response_interrupted', 'stream_complete'])
    expect(events[1]?.content).toEqual({ text: 'Let me think', reason: 'cancelled' })
    expect(events[2]?.content).toMatchObject({ status: 'interrupted' })
    expect((await runtime.store.getSession(sessionId))?.status).toBe('interrupted')
    expect(runs.isRunning(sessionId)).toBe(false)
  })

  it('cancels a long bash command by killing it, and the next query sees it as interrupted', async () => {
    llm = await startScriptedOpenAi()
    const { runs, runtime } = await open(await tempDir())
    const sessionId = randomUUID()
    // Found from the host by its argument: in the shell's sandbox, `$$` would be another namespace's pid.
    const marker = uniqueSleep()
    const command = `sh -c 'exec sleep ${marker}'`
    llm.enqueue({ toolCalls: [{ id: 'call_sleep', name: 'bash', arguments: { command } }] })
    await runs.start({ sessionId, text: 'Sleep' })
    await expect.poll(() => processesWith(marker).length, { timeout: 5000 }).toBe(1)

    const started = performance.now()
    await runs.cancel(sessionId)
    expect(performance.now() - started).toBeLessThan(1000)
    await expect.poll(() => processesWith(marker), { timeout: 1000 }).toEqual([])
    const types = (await eventsOf(runtime.store, sessionId)).map((e) => e.type)
    expect(types).toEqual(['user_message', 'tool_call', 'agent_response_interrupted', 'stream_complete'])

    llm.enqueue({ text: 'Stopped, as asked.' })
    await runs.start({ sessionId, text: 'What happened?' })
    expect(await runs.wait(sessionId)).toMatchObject({ status: 'completed' })
    expect(messagesOf(1).slice(1)).toEqual([
      { role: 'user', content: 'Sleep' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_sleep',
            type: 'function',
            function: {
              name: 'bash',
              arguments: JSON.stringify({ command }),
            },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_sleep', content: INTERRUPTED_RESULT },
      { role: 'user', content: 'What happened?' },
    ])
  })

  it('feeds an unknown tool and malformed arguments back as error results, and the run goes on', async () => {
    llm = await startScriptedOpenAi()
    const { runs, runtime } = await open(await tempDir())
    const sessionId = randomUUID()
    llm.enqueue(
      {
        toolCalls: [
          { id: 'call_ghost', name: 'teleport', arguments: { where: 'moon' } },
          { id: 'call_broken', name: 'bash', arguments: '{"command": "ls' },
        ],
      },
      { text: 'Recovered.' },
    )
    await runs.start({ sessionId, text: 'Try things' })
    expect(await runs.wait(sessionId)).toMatchObject({ status: 'completed', answer: 'Recovered.', turns: 2 })
    const results = (await eventsOf(runtime.store, sessionId)).filter((e) => e.type === 'tool_result')
    expect(results.map((e) => [e.content.tool_call_id, e.content.is_error])).toEqual([
      ['call_ghost', true],
      ['call_broken', true],
    ])
    expect(String(results[0]?.content.result)).toContain('Unknown tool `teleport`')
    const second = messagesOf(1)
    // The model sees its own broken arguments and both errors.
    const broken = second.flatMap((m) => m.tool_calls ?? []).find((call) => call.id === 'call_broken')
    expect(broken?.function.arguments).toBe('{"command": "ls')
    expect(second.filter((m) => m.role === 'tool').map((m) => m.tool_call_id)).toEqual(['call_ghost', 'call_broken'])
  })

  it('a provider that is down ends the run with a stored error naming the provider and the status', async () => {
    llm = await startScriptedOpenAi()
    llm.setFallback({ status: 500, errorMessage: 'backend exploded' })
    const { runs, runtime } = await open(await tempDir())
    const sessionId = randomUUID()
    await runs.start({ sessionId, text: 'Anything' })
    const outcome = await runs.wait(sessionId)
    expect(outcome?.status).toBe('failed')
    expect(llm.requests.length).toBeGreaterThanOrEqual(2) // retried
    const events = await eventsOf(runtime.store, sessionId)
    expect(events.map((e) => e.type)).toEqual(['user_message', 'error', 'stream_complete'])
    expect(events[1]?.content.error_code).toBe('LLM_REQUEST_FAILED')
    expect(String(events[1]?.content.message)).toMatch(/chutes/)
    expect(String(events[1]?.content.message)).toMatch(/500/)
    expect(events[2]?.content).toMatchObject({ status: 'failed' })
    expect((await runtime.store.getSession(sessionId))?.status).toBe('idle')
  })

  it('without an API key the run fails at once with a stored error saying which variable to set', async () => {
    llm = await startScriptedOpenAi()
    const scripted = await openScriptedRuntime(await tempDir(), null)
    opened.push(scripted)
    const sessionId = randomUUID()
    await scripted.runs.start({ sessionId, text: 'Anything' })
    expect(await scripted.runs.wait(sessionId)).toMatchObject({
      status: 'failed',
      error: { code: 'LLM_NOT_CONFIGURED' },
    })
    const events = await eventsOf(scripted.runtime.store, sessionId)
    expect(events[1]).toMatchObject({ type: 'error', content: { error_code: 'LLM_NOT_CONFIGURED' } })
    expect(String(events[1]?.content.message)).toContain('CHUTES_API_KEY')
  })
})

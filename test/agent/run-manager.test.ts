import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { isBerthError } from '../../src/core/errors.js'
import type { TransientEvent } from '../../src/core/events.js'
import { defineTool } from '../../src/tools/tool.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventsOf, type Harness, openHarness } from './fixtures/harness.js'
import { calls, finish, hang, ScriptProvider, text } from './fixtures/script-provider.js'

// Small tools for the loop's logic; the full tests use the real toolset.
const writeNote = defineTool({
  name: 'write_note',
  description: 'Write a note into the workspace.',
  parameters: z.object({ name: z.string(), body: z.string() }),
  async execute(input, context) {
    await context.workspaces.writeFile(context.sessionId, input.name, input.body)
    await context.emit({ type: 'file_edit', content: { path: input.name, content: input.body, total_lines: 1 } })
    context.emitTransient('wrote it')
    return { output: `wrote ${input.name}` }
  },
})
const complete = defineTool({
  name: 'complete',
  description: 'Finish with the answer.',
  parameters: z.object({ answer: z.string() }),
  async execute(input) {
    return { output: 'Task completed', finalAnswer: input.answer }
  },
})
/** Ignores its abort signal on purpose: cancel must still end the run in time. */
const stubborn = defineTool({
  name: 'stubborn',
  description: 'Takes 1.5 s whatever happens.',
  parameters: z.object({}),
  async execute() {
    await new Promise((resolve) => setTimeout(resolve, 1500))
    return { output: 'finished anyway' }
  },
})
const TOOLS = [writeNote, complete, stubborn]

let harness: Harness
afterEach(async () => {
  await harness?.close()
})

async function setup(steps: ConstructorParameters<typeof ScriptProvider>[0]) {
  harness = await openHarness(await tempDir())
  const provider = new ScriptProvider(steps)
  const runs = harness.manager({ createProvider: () => provider, createTools: () => TOOLS, cancelGraceMs: 300 })
  return { provider, runs, sessionId: randomUUID(), store: harness.store }
}

describe('AgentRunManager (in-process model)', () => {
  it('runs tools, stores every step in order and ends with the final answer', async () => {
    const { provider, runs, sessionId, store } = await setup([
      [
        { type: 'reasoning-delta', text: 'Plan: write' },
        { type: 'text-delta', text: 'Writing ' },
        { type: 'text-delta', text: 'the note.' },
        { type: 'tool-call', call: { id: 'c1', name: 'write_note', input: { name: 'a.txt', body: 'hello' } } },
        finish('tool-calls', 100, 20),
      ],
      calls({ id: 'c2', name: 'complete', input: { answer: 'The note is in a.txt.' } }),
    ])
    const live: TransientEvent[] = []
    runs.onTransient(sessionId, (event) => live.push(event))
    await runs.start({ sessionId, text: 'write a note', deviceId: 'web' })
    expect(runs.isRunning(sessionId)).toBe(true)
    const outcome = await runs.wait(sessionId)
    expect(outcome).toEqual({
      status: 'completed',
      answer: 'The note is in a.txt.',
      turns: 2,
      usage: { inputTokens: 110, outputTokens: 25 },
    })
    expect(runs.isRunning(sessionId)).toBe(false)
    expect(await runs.wait(sessionId)).toBeNull()

    expect(await eventsOf(store, sessionId)).toEqual([
      { type: 'user_message', content: { text: 'write a note', files: [] } },
      { type: 'agent_thinking', content: { text: 'Plan: write' } },
      // Text beside tool calls is not the answer: an ii-agent frontend ends the run at agent_response.
      { type: 'agent_message', content: { text: 'Writing the note.' } },
      {
        type: 'tool_call',
        content: { tool_call_id: 'c1', tool_name: 'write_note', tool_input: { name: 'a.txt', body: 'hello' } },
      },
      { type: 'file_edit', content: { path: 'a.txt', content: 'hello', total_lines: 1 } },
      { type: 'tool_result', content: { tool_call_id: 'c1', tool_name: 'write_note', result: 'wrote a.txt' } },
      {
        type: 'tool_call',
        content: { tool_call_id: 'c2', tool_name: 'complete', tool_input: { answer: 'The note is in a.txt.' } },
      },
      { type: 'tool_result', content: { tool_call_id: 'c2', tool_name: 'complete', result: 'Task completed' } },
      { type: 'agent_response', content: { text: 'The note is in a.txt.' } },
      {
        type: 'stream_complete',
        content: { status: 'completed', turns: 2, usage: { input_tokens: 110, output_tokens: 25 } },
      },
    ])
    const session = await store.getSession(sessionId)
    expect(session).toMatchObject({ status: 'idle', deviceId: 'web' })
    expect(await readFile(join(harness.workspaces.dirFor(sessionId), 'a.txt'), 'utf8')).toBe('hello')
    expect(live).toEqual([
      { type: 'agent_thinking_delta', content: { text: 'Plan: write' } },
      { type: 'agent_response_delta', content: { text: 'Writing ' } },
      { type: 'agent_response_delta', content: { text: 'the note.' } },
      { type: 'tool_output_delta', content: { tool_call_id: 'c1', text: 'wrote it' } },
    ])
    // The second call saw the first step, its call and its result; tools were offered with JSON schemas.
    expect(provider.requests[1]?.messages).toEqual([
      { role: 'user', content: 'write a note' },
      {
        role: 'assistant',
        text: 'Writing the note.',
        toolCalls: [{ id: 'c1', name: 'write_note', input: { name: 'a.txt', body: 'hello' } }],
      },
      { role: 'tool', toolCallId: 'c1', toolName: 'write_note', content: 'wrote a.txt' },
    ])
    expect(provider.requests[0]?.tools.map((t) => t.name)).toEqual(['write_note', 'complete', 'stubborn'])
    expect(provider.requests[0]?.tools[0]?.inputSchema).toMatchObject({ type: 'object', required: ['name', 'body'] })
  })

  it('refuses a second query while one runs (QUERY_IN_PROGRESS), also when both start at once', async () => {
    const { runs, sessionId } = await setup([hang()])
    const results = await Promise.allSettled([
      runs.start({ sessionId, text: 'one' }),
      runs.start({ sessionId, text: 'two' }),
    ])
    expect(results[0]?.status).toBe('fulfilled')
    expect(results[1]?.status).toBe('rejected')
    const error = (results[1] as PromiseRejectedResult).reason
    expect(isBerthError(error, 'QUERY_IN_PROGRESS')).toBe(true)
    await expect(runs.start({ sessionId, text: 'three' })).rejects.toMatchObject({ code: 'QUERY_IN_PROGRESS' })
    expect(await runs.cancel(sessionId)).toBe(true)
    expect(await runs.cancel(sessionId)).toBe(false)
  })

  it('feeds an unknown tool and unreadable arguments back as error results, and goes on', async () => {
    const { provider, runs, sessionId, store } = await setup([
      calls(
        { id: 'u1', name: 'launch_rocket', input: {} },
        {
          id: 'u2',
          name: 'write_note',
          input: '{"name": "a.txt", "body": ',
          inputError: 'Unexpected end of JSON input',
        },
        { id: 'u3', name: 'write_note', input: { name: 42 } },
      ),
      text('Sorry, done now.'),
    ])
    await runs.start({ sessionId, text: 'go' })
    const outcome = await runs.wait(sessionId)
    expect(outcome).toMatchObject({ status: 'completed', answer: 'Sorry, done now.', turns: 2 })
    const results = (await eventsOf(store, sessionId)).filter((e) => e.type === 'tool_result')
    expect(results.map((r) => r.content.is_error)).toEqual([true, true, true])
    expect(results[0]?.content.result).toMatch(/launch_rocket.*Available tools: write_note, complete, stubborn/)
    expect(results[1]?.content.result).toMatch(/could not be read \(Unexpected end of JSON input\)/)
    expect(results[2]?.content.result).toMatch(/Invalid arguments/)
    const call = (await eventsOf(store, sessionId)).find(
      (e) => e.type === 'tool_call' && e.content.tool_call_id === 'u2',
    )
    expect(call?.content).toMatchObject({
      tool_input: '{"name": "a.txt", "body": ',
      input_error: 'Unexpected end of JSON input',
    })
    // The model got all three errors back.
    expect(provider.requests[1]?.messages.filter((m) => m.role === 'tool')).toHaveLength(3)
  })

  it('cancels a hanging model call within a second and records the interrupt', async () => {
    const { runs, sessionId, store } = await setup([
      (request) =>
        (async function* () {
          yield { type: 'text-delta' as const, text: 'Let me th' }
          yield* hang()(request) as AsyncIterable<never>
        })(),
    ])
    await runs.start({ sessionId, text: 'think hard' })
    await new Promise((resolve) => setTimeout(resolve, 50))
    const started = performance.now()
    expect(await runs.cancel(sessionId)).toBe(true)
    expect(performance.now() - started).toBeLessThan(1000)
    expect(runs.isRunning(sessionId)).toBe(false)
    const events = await eventsOf(store, sessionId)
    expect(events.slice(-2)).toEqual([
      { type: 'agent_response_interrupted', content: { text: 'Let me th', reason: 'cancelled' } },
      {
        type: 'stream_complete',
        content: { status: 'interrupted', turns: 1, usage: { input_tokens: 0, output_tokens: 0 } },
      },
    ])
    expect((await store.getSession(sessionId))?.status).toBe('interrupted')
  })

  it('ends the run in time even when a tool ignores the abort, and stores nothing after the interrupt', async () => {
    const { runs, sessionId, store } = await setup([calls({ id: 's1', name: 'stubborn', input: {} }), text('never')])
    await runs.start({ sessionId, text: 'go' })
    const outcome = runs.wait(sessionId)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const started = performance.now()
    await runs.cancel(sessionId)
    expect(performance.now() - started).toBeLessThan(1000)
    expect((await outcome)?.status).toBe('interrupted')
    // The stubborn tool finishes later; its result must not land after the interrupt.
    await new Promise((resolve) => setTimeout(resolve, 1600))
    const types = (await eventsOf(store, sessionId)).map((e) => e.type)
    expect(types).toEqual(['user_message', 'tool_call', 'agent_response_interrupted', 'stream_complete'])
    // The session can be continued: the open call reads as interrupted.
    await expect(runs.start({ sessionId, text: 'again' })).resolves.toBeUndefined()
  })

  it('stops at the turn limit with a stored error', async () => {
    const loop = () => calls({ id: randomUUID(), name: 'write_note', input: { name: 'n.txt', body: 'x' } })
    const { runs, sessionId, store } = await setup([loop(), loop(), loop()])
    await runs.start({ sessionId, text: 'loop', maxTurns: 2 })
    const outcome = await runs.wait(sessionId)
    expect(outcome).toMatchObject({ status: 'failed', turns: 2, error: { code: 'MAX_TURNS_REACHED' } })
    const events = await eventsOf(store, sessionId)
    expect(events.at(-2)).toMatchObject({ type: 'error', content: { error_code: 'MAX_TURNS_REACHED' } })
    expect(events.at(-1)).toMatchObject({ type: 'stream_complete', content: { status: 'failed' } })
    expect((await store.getSession(sessionId))?.status).toBe('idle')
  })

  it('stops when the run has used its token budget', async () => {
    harness = await openHarness(await tempDir())
    const loop = () => [
      {
        type: 'tool-call' as const,
        call: { id: randomUUID(), name: 'write_note', input: { name: 'n.txt', body: 'x' } },
      },
      finish('tool-calls', 400, 100),
    ]
    const provider = new ScriptProvider([loop(), loop(), loop()])
    const runs = harness.manager({
      createProvider: () => provider,
      createTools: () => TOOLS,
      config: { maxTurns: 200, maxRunTokens: 1000, publicUrl: undefined, port: 8000 },
    })
    const sessionId = randomUUID()
    await runs.start({ sessionId, text: 'spend' })
    const outcome = await runs.wait(sessionId)
    expect(outcome).toMatchObject({ status: 'failed', turns: 2, error: { code: 'TOKEN_LIMIT_REACHED' } })
    expect(outcome?.usage).toEqual({ inputTokens: 800, outputTokens: 200 })
    expect(provider.requests).toHaveLength(2)
  })

  it('stores a failing model as an error event and a failed stream_complete', async () => {
    harness = await openHarness(await tempDir())
    const runs = harness.manager({
      createProvider: () => {
        throw new Error('no model today')
      },
      createTools: () => TOOLS,
    })
    const sessionId = randomUUID()
    await runs.start({ sessionId, text: 'hi' })
    expect(await runs.wait(sessionId)).toMatchObject({ status: 'failed', error: { code: 'AGENT_RUNTIME_ERROR' } })
    const events = await eventsOf(harness.store, sessionId)
    expect(events.map((e) => e.type)).toEqual(['user_message', 'error', 'stream_complete'])
    expect(events[1]?.content.message).toContain('no model today')
  })

  it('marks sessions left running by a dead process as interrupted, once', async () => {
    harness = await openHarness(await tempDir())
    const { store } = harness
    const dead = randomUUID()
    const endedButRunning = randomUUID()
    for (const id of [dead, endedButRunning]) {
      await store.createSession({ id, workspaceDir: `/w/${id}`, deviceId: 'web' })
      await store.append(id, { type: 'user_message', content: { text: 'x', files: [] } })
      await store.setStatus(id, 'running')
    }
    await store.append(endedButRunning, { type: 'stream_complete', content: { status: 'completed' } })
    const provider = new ScriptProvider([text('continued')])
    const runs = harness.manager({ createProvider: () => provider, createTools: () => TOOLS })
    expect(await runs.recoverInterrupted()).toBe(2)
    expect(await runs.recoverInterrupted()).toBe(0)
    expect((await eventsOf(store, dead)).slice(1)).toEqual([
      { type: 'agent_response_interrupted', content: { text: '', reason: 'crashed' } },
      { type: 'stream_complete', content: { status: 'interrupted' } },
    ])
    expect((await eventsOf(store, endedButRunning)).map((e) => e.type)).toEqual(['user_message', 'stream_complete'])
    expect((await store.getSession(dead))?.status).toBe('interrupted')
    // It can be continued, and the workspace folder is created on the way.
    await runs.start({ sessionId: dead, text: 'go on' })
    expect(await runs.wait(dead)).toMatchObject({ status: 'completed', answer: 'continued' })
    expect(provider.requests[0]?.messages).toEqual([
      { role: 'user', content: 'x' },
      { role: 'user', content: 'go on' },
    ])
    expect(await harness.workspaces.exists(dead)).toBe(true)
  })

  it('shutdown interrupts every run with reason shutdown and refuses new ones', async () => {
    const { runs, store } = await setup([hang(), hang()])
    const a = randomUUID()
    const b = randomUUID()
    await runs.start({ sessionId: a, text: 'a' })
    await runs.start({ sessionId: b, text: 'b' })
    await runs.shutdown()
    for (const id of [a, b]) {
      const events = await eventsOf(store, id)
      expect(events.at(-2)).toMatchObject({ type: 'agent_response_interrupted', content: { reason: 'shutdown' } })
    }
    await expect(runs.start({ sessionId: randomUUID(), text: 'c' })).rejects.toMatchObject({ code: 'RUNS_SHUT_DOWN' })
  })

  it("disposes a session's resources after it has been idle", async () => {
    harness = await openHarness(await tempDir())
    let disposed = 0
    const keeper = defineTool({
      name: 'keeper',
      description: 'Keeps a resource.',
      parameters: z.object({}),
      async execute(_input, context) {
        context.resources.get(
          'thing',
          () => ({}),
          () => {
            disposed++
          },
        )
        return { output: 'ok' }
      },
    })
    const provider = new ScriptProvider([calls({ id: 'k', name: 'keeper', input: {} }), text('done')])
    const runs = harness.manager({ createProvider: () => provider, createTools: () => [keeper], idleDisposeMs: 100 })
    const sessionId = randomUUID()
    await runs.start({ sessionId, text: 'go' })
    await runs.wait(sessionId)
    expect(disposed).toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 250))
    expect(disposed).toBe(1)
  })
})

import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { INTERRUPTED_RESULT } from '../../src/agent/history.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { TSX_IMPORT } from '../helpers/tsx.js'
import { eventsOf } from './fixtures/harness.js'
import { openScriptedRuntime, type ScriptedRuntime } from './fixtures/scripted-runtime.js'

const runner = fileURLToPath(new URL('./fixtures/crash-runner.ts', import.meta.url))

let llm: ScriptedLlm
let opened: ScriptedRuntime | undefined
afterEach(async () => {
  await opened?.close()
  await llm?.close()
})

describe('a run cut off by a crash', () => {
  it('is marked interrupted by the next process, and the session continues with its history', async () => {
    llm = await startScriptedOpenAi()
    const root = await tempDir()
    const sessionId = randomUUID()
    llm.enqueue({ toolCalls: [{ id: 'call_slow', name: 'bash', arguments: { command: 'sleep 3' } }] })

    const child = spawn(process.execPath, ['--import', TSX_IMPORT, runner, root, llm.url, sessionId], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`runner exited early with ${code}`)))
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line !== 'tool_call stored') return
        child.removeAllListeners('exit')
        child.kill('SIGKILL')
        resolve()
      })
    })
    await new Promise((resolve) => child.once('exit', resolve))

    opened = await openScriptedRuntime(root, llm.url)
    const { runs, runtime } = opened
    expect((await runtime.store.getSession(sessionId))?.status).toBe('running')
    expect(await runs.recoverInterrupted()).toBe(1)
    expect((await runtime.store.getSession(sessionId))?.status).toBe('interrupted')
    const events = await eventsOf(runtime.store, sessionId)
    expect(events.map((e) => e.type)).toEqual([
      'user_message',
      'tool_call',
      'agent_response_interrupted',
      'stream_complete',
    ])
    expect(events[2]?.content).toEqual({ text: '', reason: 'crashed' })
    expect(events[3]?.content).toEqual({ status: 'interrupted' })

    llm.enqueue({ text: 'The sleep was cut short.' })
    await runs.start({ sessionId, text: 'Did it finish?' })
    expect(await runs.wait(sessionId)).toMatchObject({ status: 'completed', answer: 'The sleep was cut short.' })
    const messages = llm.requests[1]?.body.messages as { role: string; content?: unknown; tool_call_id?: string }[]
    expect(messages.slice(1).map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'user'])
    expect(messages[3]).toEqual({ role: 'tool', tool_call_id: 'call_slow', content: INTERRUPTED_RESULT })
    expect((await runtime.store.getSession(sessionId))?.status).toBe('idle')
  })
})

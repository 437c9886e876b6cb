import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { runBerth } from '../helpers/berth-process.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { TSX_IMPORT } from '../helpers/tsx.js'
import { eventsOf } from './fixtures/harness.js'
import { scriptedEnv } from './fixtures/scripted-runtime.js'

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

let llm: ScriptedLlm
afterEach(async () => {
  await llm?.close()
})

type ChatMessage = { role: string; content?: unknown }

describe('berth run', () => {
  it('runs one task, prints the answer and exits 0; --session continues it with its history', async () => {
    llm = await startScriptedOpenAi()
    const root = await tempDir()
    const env = scriptedEnv(root, llm.url)
    llm.enqueue(
      { toolCalls: [{ id: 'call_1', name: 'bash', arguments: { command: 'echo 42 > answer.txt' } }] },
      { text: 'The answer is 42.' },
    )
    const first = await runBerth(['run', 'What', 'is', 'the', 'answer?'], { cwd: root, env })
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toBe('The answer is 42.\n')
    expect(first.stderr).toContain('· bash {"command":"echo 42 > answer.txt"}')
    const sessionId = /session ([0-9a-f-]{36})/.exec(first.stderr)?.[1] as string
    expect(sessionId).toBeDefined()

    const store = await SqliteStore.open({ file: join(root, 'events.db') })
    try {
      expect(await store.getSession(sessionId)).toMatchObject({ deviceId: 'cli', status: 'idle' })
      const events = await eventsOf(store, sessionId)
      expect(events[0]).toEqual({ type: 'user_message', content: { text: 'What is the answer?', files: [] } })
      expect(events.at(-1)).toMatchObject({ type: 'stream_complete', content: { status: 'completed' } })
    } finally {
      await store.close()
    }
    expect(await readFile(join(root, 'workspace', sessionId, 'answer.txt'), 'utf8')).toBe('42\n')
    // The log is appended to, never deleted.
    const log = await readFile(join(root, 'agent_logs.txt'), 'utf8')

    llm.enqueue({ text: 'Still 42.' })
    const second = await runBerth(['run', '--session', sessionId, 'Are you sure?'], { cwd: root, env })
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toBe('Still 42.\n')
    const messages = llm.requests[2]?.body.messages as ChatMessage[]
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'user'])
    expect(messages[1]?.content).toBe('What is the answer?')
    expect(messages[4]?.content).toBe('The answer is 42.')
    expect(messages[5]?.content).toBe('Are you sure?')
    expect((await readFile(join(root, 'agent_logs.txt'), 'utf8')).startsWith(log)).toBe(true)
  })

  it('exits 1 and says why when the provider is down, and refuses an unknown session', async () => {
    llm = await startScriptedOpenAi()
    llm.setFallback({ status: 503, errorMessage: 'overloaded' })
    const root = await tempDir()
    const env = scriptedEnv(root, llm.url)
    const failed = await runBerth(['run', 'hello'], { cwd: root, env })
    expect(failed.code).toBe(1)
    expect(failed.stdout).toBe('')
    expect(failed.stderr).toMatch(/berth: .*chutes.*503.*\(LLM_REQUEST_FAILED\)/)

    const unknown = await runBerth(['run', '--session', '00000000-0000-4000-8000-000000000000', 'hi'], {
      cwd: root,
      env,
    })
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('No session 00000000-0000-4000-8000-000000000000')
  })

  it('without a task reads queries line by line in one session, streaming the answers, until quit', async () => {
    llm = await startScriptedOpenAi()
    const root = await tempDir()
    llm.enqueue({ text: 'Hello there, human.', chunkSize: 3 }, { text: 'You said hi before.' })
    const child = spawn(process.execPath, ['--import', TSX_IMPORT, CLI, 'run'], {
      cwd: root,
      env: { ...process.env, ...scriptedEnv(root, llm.url), NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.stdin.write('hi\n')
    await expect.poll(() => stdout, { timeout: 15_000 }).toContain('Hello there, human.\n')
    child.stdin.write('again\nquit\n')
    const code = await new Promise((resolve) => child.once('exit', resolve))
    expect(code, stderr).toBe(0)
    expect(stdout).toBe('Hello there, human.\nYou said hi before.\n')
    const messages = (llm.requests[1]?.body.messages ?? []) as ChatMessage[]
    expect(messages.slice(1)).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'Hello there, human.' },
      { role: 'user', content: 'again' },
    ])
  })
})

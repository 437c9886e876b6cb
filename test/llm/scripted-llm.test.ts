import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterEach, describe, expect, it } from 'vitest'
import { createLlm } from '../../src/llm/create-llm.js'
import { startScriptedAnthropic } from '../helpers/scripted-llm/scripted-anthropic.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { chutesAt, collect, llmRequest, textOf } from './llm-test-kit.js'

const servers: ScriptedLlm[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
})

describe('scripted LLM servers', () => {
  it('answer non-streaming chat completions through the OpenAI SDK', async () => {
    const llm = await startScriptedOpenAi()
    servers.push(llm)
    llm.enqueue({ text: 'plain', toolCalls: [{ id: 'c1', name: 'bash', arguments: { command: 'ls' } }] })
    const client = new OpenAI({ apiKey: 'k', baseURL: llm.url, maxRetries: 0 })
    const completion = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
    expect(completion.choices[0]?.message.content).toBe('plain')
    expect(completion.choices[0]?.message.tool_calls).toEqual([
      { id: 'c1', type: 'function', function: { name: 'bash', arguments: '{"command":"ls"}' } },
    ])
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls')
    expect(llm.requests[0]?.stream).toBe(false)
  })

  it('answer non-streaming messages through the Anthropic SDK', async () => {
    const llm = await startScriptedAnthropic()
    servers.push(llm)
    llm.enqueue({ text: 'hello', usage: { input: 3, output: 1 } })
    const client = new Anthropic({ apiKey: 'k', baseURL: llm.url, maxRetries: 0 })
    const message = await client.messages.create({
      model: 'claude-x',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    })
    expect(message.content).toEqual([{ type: 'text', text: 'hello' }])
    expect(message.usage).toMatchObject({ input_tokens: 3, output_tokens: 1 })
  })

  it('take a step meant for a model only for that model, and fall back when the queue is empty', async () => {
    const llm = await startScriptedOpenAi()
    servers.push(llm)
    llm.enqueue({ model: 'b', text: 'for b' }, { text: 'for anyone' })
    llm.setFallback({ text: 'fallback' })
    const ask = async (model: string) =>
      textOf(await collect(createLlm(chutesAt(llm.url), { modelId: `chutes:${model}` }).stream(llmRequest())))
    expect(await ask('a')).toBe('for anyone')
    expect(await ask('a')).toBe('fallback')
    expect(await ask('b')).toBe('for b')
    expect(llm.pending).toBe(0)
  })

  it('run as a separate process from a JSON script, printing the URL and taking more steps over HTTP', async () => {
    const dir = await tempDir()
    const script = join(dir, 'script.json')
    await writeFile(script, JSON.stringify({ protocol: 'openai', steps: [{ text: 'from the file' }] }))
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/scripted-llm/cli.ts', '--script', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve)
        child.once('exit', (code) => reject(new Error(`exited with ${code}`)))
      })
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/)
      const config = chutesAt(url)
      expect(textOf(await collect(createLlm(config).stream(llmRequest())))).toBe('from the file')

      const origin = new URL(url).origin
      await fetch(`${origin}/__scripted/enqueue`, { method: 'POST', body: JSON.stringify([{ text: 'queued later' }]) })
      expect(textOf(await collect(createLlm(config).stream(llmRequest())))).toBe('queued later')
      const state = (await (await fetch(`${origin}/__scripted/requests`)).json()) as { requests: unknown[] }
      expect(state.requests).toHaveLength(2)
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    }
  })
})

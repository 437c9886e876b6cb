import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { eventsOf } from '../agent/fixtures/harness.js'
import { openScriptedRuntime, type ScriptedRuntime } from '../agent/fixtures/scripted-runtime.js'
import { startScriptedAnthropic } from '../helpers/scripted-llm/scripted-anthropic.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { type FakeSite, startFakeSite } from './browser-fixtures.js'

/**
 * Whole runs in which the scripted model drives the browser (real chromium,
 * berth's configured toolset): the next request must carry the page's text
 * and the screenshot as an image part, in both wire formats.
 */
let site: FakeSite
let llm: ScriptedLlm | undefined
let scripted: ScriptedRuntime | undefined

beforeAll(async () => {
  site = await startFakeSite()
})
afterAll(async () => {
  await site.close()
})
afterEach(async () => {
  await scripted?.close()
  await llm?.close()
  scripted = undefined
  llm = undefined
})

const ENV = { BERTH_WEB_ALLOW_PRIVATE: 'true', BERTH_BROWSER_PATH: '/usr/bin/chromium' }

async function screenshotOf(runtime: ScriptedRuntime, sessionId: string): Promise<{ path: string; base64: string }> {
  const result = (await eventsOf(runtime.runtime.store, sessionId)).find((e) => e.type === 'tool_result')
  const images = (result?.content as { images?: { path: string; media_type: string }[] } | undefined)?.images ?? []
  expect(images).toHaveLength(1)
  expect(images[0]?.media_type).toBe('image/jpeg')
  const path = images[0]?.path as string
  const bytes = await readFile(join(runtime.runtime.workspaces.dirFor(sessionId), path))
  return { path, base64: bytes.toString('base64') }
}

describe('the browser in a scripted run', () => {
  it('OpenAI-compatible: the tool message holds the page text, the screenshot follows as an image', async () => {
    llm = await startScriptedOpenAi()
    scripted = await openScriptedRuntime(await tempDir(), llm.url, { env: ENV })
    const sessionId = randomUUID()
    llm.enqueue(
      { toolCalls: [{ id: 'call_nav', name: 'browser_navigation', arguments: { url: `${site.base}/scripted` } }] },
      { text: 'The page says otter.' },
    )
    await scripted.runs.start({ sessionId, text: 'What does the page say?' })
    expect(await scripted.runs.wait(sessionId)).toMatchObject({ status: 'completed', answer: 'The page says otter.' })
    const tools = (llm.requests[0]?.body.tools ?? []) as { function: { name: string } }[]
    const offered = tools.map((t) => t.function.name)
    expect(offered).toEqual(expect.arrayContaining(['browser_navigation', 'browser_click', 'browser_wait']))
    const messages = llm.requests[1]?.body.messages as { role: string; tool_call_id?: string; content: unknown }[]
    const tool = messages.find((m) => m.role === 'tool' && m.tool_call_id === 'call_nav')
    expect(String(tool?.content)).toContain('Fetched after load: otter')
    expect(String(tool?.content)).toContain(`URL: ${site.base}/scripted`)
    const shot = await screenshotOf(scripted, sessionId)
    expect(messages.at(-1)).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'The image returned by tool call call_nav (browser_navigation):' },
        { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${shot.base64}` } },
      ],
    })
  })

  it('Anthropic: the tool_result holds the page text and the screenshot block', async () => {
    llm = await startScriptedAnthropic()
    scripted = await openScriptedRuntime(await tempDir(), null, {
      env: {
        ...ENV,
        ANTHROPIC_API_KEY: 'test-key',
        BERTH_MODEL: 'anthropic:claude-sonnet-4-0',
        ANTHROPIC_BASE_URL: llm.url,
      },
    })
    const sessionId = randomUUID()
    llm.enqueue(
      { toolCalls: [{ id: 'toolu_nav', name: 'browser_navigation', arguments: { url: `${site.base}/form` } }] },
      { text: 'A form.' },
    )
    await scripted.runs.start({ sessionId, text: 'Open the form' })
    expect(await scripted.runs.wait(sessionId)).toMatchObject({ status: 'completed' })
    const messages = llm.requests[1]?.body.messages as { role: string; content: { type: string }[] }[]
    const result = messages
      .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
      .find((b) => b.type === 'tool_result') as unknown as { content: { type: string; text?: string }[] }
    expect(result.content[0]?.text).toContain('Title: Order form')
    expect(result.content[0]?.text).toContain('Send order')
    const shot = await screenshotOf(scripted, sessionId)
    expect(result.content[1]).toEqual({
      type: 'image',
      source: { type: 'base64', media_type: 'image/jpeg', data: shot.base64 },
    })
  })
})

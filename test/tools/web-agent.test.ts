import { randomUUID } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openScriptedRuntime, type ScriptedRuntime } from '../agent/fixtures/scripted-runtime.js'
import { startScriptedAnthropic } from '../helpers/scripted-llm/scripted-anthropic.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { type FakeWeb, startFakeWeb } from './web-fixtures.js'

/**
 * A whole run with no web key set: the scripted model calls the keyless web
 * tools, berth's settings point them at the local fake web, and the model's
 * next request must carry what the fake web served, in both wire formats.
 */
let web: FakeWeb
let llm: ScriptedLlm | undefined
let scripted: ScriptedRuntime | undefined

beforeAll(async () => {
  web = await startFakeWeb()
})
afterAll(async () => {
  await web.close()
})
afterEach(async () => {
  await scripted?.close()
  await llm?.close()
  scripted = undefined
  llm = undefined
  web.seen.length = 0
})

function webEnv(): Record<string, string> {
  return {
    BERTH_DUCKDUCKGO_BASE_URL: web.base,
    BERTH_YOUTUBE_BASE_URL: web.base,
    BERTH_ARXIV_BASE_URL: `${web.base}/arxiv`,
    BERTH_WEB_ALLOW_PRIVATE: 'true',
  }
}

const calls = (base: string) => [
  { id: 'call_search', name: 'web_search', arguments: { query: 'sea otters' } },
  { id: 'call_visit', name: 'visit_webpage', arguments: { url: `${base}/moved` } },
  { id: 'call_yt', name: 'youtube_video_transcript', arguments: { url: 'https://youtu.be/otterVideo1' } },
  { id: 'call_links', name: 'list_html_links', arguments: { path: 'site' } },
]

async function writeSite(runtime: ScriptedRuntime, sessionId: string) {
  const site = path.join(runtime.runtime.workspaces.dirFor(sessionId), 'site')
  await mkdir(site, { recursive: true })
  await writeFile(path.join(site, 'index.html'), '<a href="habitat.html">Habitat</a>')
}

function expectWebContents(results: Record<string, string>) {
  const hits = JSON.parse(results.call_search ?? '') as { url: string }[]
  expect(hits.map((hit) => hit.url)).toEqual([
    'https://en.wikipedia.org/wiki/Sea_otter',
    'https://otters.example/facts?a=1&b=2',
    'https://zoo.example/otters',
  ])
  expect(results.call_visit).toContain('Otter facts & figures')
  expect(results.call_visit).toContain('| Sea otter | 1.2 m |')
  expect(results.call_yt).toBe('Otters hold hands so they do not drift apart & lose each other.')
  expect(results.call_links).toContain(
    "Local HTML pages linked from 'site': habitat.html. Missing in the workspace: habitat.html.",
  )
}

describe('the keyless web tools in a scripted run', () => {
  it('OpenAI-compatible: tool messages carry the search results, the page, the transcript and the links', async () => {
    llm = await startScriptedOpenAi()
    scripted = await openScriptedRuntime(await tempDir(), llm.url, { env: webEnv() })
    const sessionId = randomUUID()
    await writeSite(scripted, sessionId)
    llm.enqueue({ toolCalls: calls(web.base) }, { text: 'Otters hold hands.' })
    await scripted.runs.start({ sessionId, text: 'Tell me about otters' })
    expect(await scripted.runs.wait(sessionId)).toMatchObject({ status: 'completed', answer: 'Otters hold hands.' })
    const tools = llm.requests[0]?.body.tools as { function: { name: string } }[]
    expect(tools.map((t) => t.function.name)).toEqual(
      expect.arrayContaining(['web_search', 'visit_webpage', 'youtube_video_transcript', 'list_html_links']),
    )
    expect(tools.map((t) => t.function.name)).not.toContain('image_search')
    const messages = llm.requests[1]?.body.messages as { role: string; tool_call_id?: string; content?: unknown }[]
    const results = Object.fromEntries(
      messages.filter((m) => m.role === 'tool').map((m) => [m.tool_call_id as string, String(m.content)]),
    )
    expectWebContents(results)
  })

  it('with a Serper key: image_search answers from Serper, and search and pages fall back when Serper fails them', async () => {
    llm = await startScriptedOpenAi()
    scripted = await openScriptedRuntime(await tempDir(), llm.url, {
      env: {
        ...webEnv(),
        SERPER_API_KEY: 'serper-key',
        SERPER_BASE_URL: `${web.base}/serper`, // /serper/images answers; /serper/search is a 404
        SERPER_SCRAPE_BASE_URL: `${web.base}/no-scrape`,
      },
    })
    const sessionId = randomUUID()
    await writeSite(scripted, sessionId)
    llm.enqueue(
      {
        toolCalls: [...calls(web.base), { id: 'call_images', name: 'image_search', arguments: { query: 'sea otter' } }],
      },
      { text: 'Done.' },
    )
    await scripted.runs.start({ sessionId, text: 'Otters, with pictures' })
    expect(await scripted.runs.wait(sessionId)).toMatchObject({ status: 'completed' })
    const messages = llm.requests[1]?.body.messages as { role: string; tool_call_id?: string; content?: unknown }[]
    const results = Object.fromEntries(
      messages.filter((m) => m.role === 'tool').map((m) => [m.tool_call_id as string, String(m.content)]),
    )
    expectWebContents(results)
    expect(JSON.parse(results.call_images ?? '')).toEqual([
      { title: 'Sea otter floating', image_url: 'https://images.example/otter.jpg', width: 1200, height: 800 },
    ])
    expect(web.seen.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([
        'POST /serper/search',
        'POST /html/',
        'POST /no-scrape',
        'GET /moved',
        'POST /serper/images',
      ]),
    )
  })

  it('Anthropic: tool_result blocks carry the same contents', async () => {
    llm = await startScriptedAnthropic()
    scripted = await openScriptedRuntime(await tempDir(), null, {
      env: {
        ANTHROPIC_API_KEY: 'test-key',
        ANTHROPIC_BASE_URL: llm.url,
        BERTH_MODEL: 'anthropic:claude-sonnet-4-0',
        ...webEnv(),
      },
    })
    const sessionId = randomUUID()
    await writeSite(scripted, sessionId)
    llm.enqueue({ toolCalls: calls(web.base) }, { text: 'Otters hold hands.' })
    await scripted.runs.start({ sessionId, text: 'Tell me about otters' })
    expect(await scripted.runs.wait(sessionId)).toMatchObject({ status: 'completed' })
    const messages = llm.requests[1]?.body.messages as { role: string; content: unknown }[]
    const blocks = messages
      .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
      .filter((b): b is { type: 'tool_result'; tool_use_id: string; content: unknown } => b?.type === 'tool_result')
    const text = (content: unknown): string =>
      typeof content === 'string'
        ? content
        : (content as { type: string; text?: string }[])
            .filter((part) => part.type === 'text')
            .map((part) => part.text ?? '')
            .join('')
    expectWebContents(Object.fromEntries(blocks.map((b) => [b.tool_use_id, text(b.content)])))
  })
})

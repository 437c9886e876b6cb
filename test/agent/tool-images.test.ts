import { randomUUID } from 'node:crypto'
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PNG_1PX } from '../helpers/images.js'
import { startScriptedAnthropic } from '../helpers/scripted-llm/scripted-anthropic.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventsOf } from './fixtures/harness.js'
import { openScriptedRuntime, type ScriptedRuntime } from './fixtures/scripted-runtime.js'

// A real run (store, workspace, toolset, providers over their SDKs) in which the model calls display_image.

const DOT_BASE64 = PNG_1PX.toString('base64')
const DOT_URL = `data:image/png;base64,${DOT_BASE64}`
const SIZE = `${PNG_1PX.length} B`
const ANTHROPIC_ENV = {
  ANTHROPIC_API_KEY: 'test-key',
  BERTH_MODEL: 'anthropic:claude-sonnet-4-0',
}

let llm: ScriptedLlm
const opened: ScriptedRuntime[] = []
afterEach(async () => {
  for (const runtime of opened.splice(0)) await runtime.close()
  await llm?.close()
})

async function open(root: string, env: Record<string, string> = {}): Promise<ScriptedRuntime> {
  const anthropic = env.BERTH_MODEL?.startsWith('anthropic:') === true
  const runtime = await openScriptedRuntime(root, anthropic ? null : llm.url, {
    env: anthropic ? { ...env, ANTHROPIC_BASE_URL: llm.url } : env,
  })
  opened.push(runtime)
  return runtime
}

/** A session whose workspace holds `files` before its first run. */
async function sessionWith(runtime: ScriptedRuntime, files: Record<string, Buffer | string>): Promise<string> {
  const sessionId = randomUUID()
  const dir = await runtime.runtime.workspaces.create(sessionId)
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true })
    await writeFile(join(dir, name), bytes)
  }
  return sessionId
}

async function run(runtime: ScriptedRuntime, sessionId: string, text: string) {
  await runtime.runs.start({ sessionId, text })
  return runtime.runs.wait(sessionId)
}

const displayCall = (id: string, image_path: string) => ({ id, name: 'display_image', arguments: { image_path } })
type ChatMessage = { role: string; content: unknown; tool_call_id?: string }
const openAiMessages = (index: number) => (llm.requests[index]?.body.messages ?? []) as ChatMessage[]
const bodyText = (index: number) => JSON.stringify(llm.requests[index]?.body ?? {})

/** Every stored payload of the session, as the database holds it. */
async function rawPayloads(runtime: ScriptedRuntime, sessionId: string): Promise<string> {
  const page = await runtime.runtime.store.readEvents(sessionId, { after: 0, limit: 1000 })
  return page.events.map((event) => event.payload).join('\n')
}

describe('display_image in a run', () => {
  it('OpenAI-compatible: the image follows the tool message; the log keeps its path; a restart sends it again', async () => {
    llm = await startScriptedOpenAi()
    const root = await tempDir()
    const first = await open(root)
    const sessionId = await sessionWith(first, { 'uploaded_files/dot.png': PNG_1PX })
    llm.enqueue(
      { text: 'Let me look.', toolCalls: [displayCall('call_img', 'uploaded_files/dot.png')] },
      { text: 'It is a single dot.' },
    )
    expect(await run(first, sessionId, 'What is in dot.png?')).toMatchObject({ status: 'completed' })

    expect(openAiMessages(1).slice(-2)).toEqual([
      { role: 'tool', tool_call_id: 'call_img', content: `Showing uploaded_files/dot.png (image/png, ${SIZE}).` },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'The image returned by tool call call_img (display_image):' },
          { type: 'image_url', image_url: { url: DOT_URL } },
        ],
      },
    ])
    const result = (await eventsOf(first.runtime.store, sessionId)).find((e) => e.type === 'tool_result')
    expect(result?.content).toEqual({
      tool_call_id: 'call_img',
      tool_name: 'display_image',
      result: `Showing uploaded_files/dot.png (image/png, ${SIZE}).`,
      images: [{ path: 'uploaded_files/dot.png', media_type: 'image/png' }],
    })
    expect(await rawPayloads(first, sessionId)).not.toContain(DOT_BASE64)

    // A restart: a new runtime rebuilds the history from the log and reads the image from the workspace again.
    await first.close()
    const second = await open(root)
    llm.enqueue({ text: 'Still a dot.' })
    expect(await run(second, sessionId, 'And now?')).toMatchObject({ status: 'completed' })
    const again = openAiMessages(2)
    expect(again.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'user', 'assistant', 'user'])
    expect(again[4]).toEqual(openAiMessages(1).at(-1))

    // Gone from the workspace: the model is told, the run goes on.
    await rm(join(second.runtime.workspaces.dirFor(sessionId), 'uploaded_files/dot.png'))
    llm.enqueue({ text: 'It is gone.' })
    expect(await run(second, sessionId, 'Once more?')).toMatchObject({ status: 'completed' })
    expect(openAiMessages(3)[3]).toEqual({
      role: 'tool',
      tool_call_id: 'call_img',
      content: `Showing uploaded_files/dot.png (image/png, ${SIZE}).\n(uploaded_files/dot.png is no longer in the workspace)`,
    })
    expect(bodyText(3)).not.toContain(DOT_BASE64)
  })

  it('Anthropic: the image is a block inside the tool_result, also after a restart', async () => {
    llm = await startScriptedAnthropic()
    const root = await tempDir()
    const first = await open(root, ANTHROPIC_ENV)
    const sessionId = await sessionWith(first, { 'pics/dot.png': PNG_1PX })
    llm.enqueue({ toolCalls: [displayCall('toolu_img', '/workspace/pics/dot.png')] }, { text: 'A dot.' })
    expect(await run(first, sessionId, 'Look at pics/dot.png')).toMatchObject({ status: 'completed' })

    const toolResultOf = (index: number) => {
      const messages = llm.requests[index]?.body.messages as { role: string; content: { type: string }[] }[]
      return messages.flatMap((m) => m.content).find((block) => block.type === 'tool_result')
    }
    const expected = {
      type: 'tool_result',
      tool_use_id: 'toolu_img',
      content: [
        { type: 'text', text: `Showing pics/dot.png (image/png, ${SIZE}).` },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: DOT_BASE64 } },
      ],
    }
    expect(toolResultOf(1)).toEqual(expected)
    expect(await rawPayloads(first, sessionId)).not.toContain(DOT_BASE64)

    await first.close()
    const second = await open(root, ANTHROPIC_ENV)
    llm.enqueue({ text: 'Still a dot.' })
    expect(await run(second, sessionId, 'Again?')).toMatchObject({ status: 'completed' })
    expect(toolResultOf(2)).toEqual(expected)
  })

  it('JSON tool-call mode: the image rides on the user message that carries the result', async () => {
    llm = await startScriptedOpenAi()
    const runtime = await open(await tempDir(), { BERTH_TOOL_CALL_MODE: 'json' })
    const sessionId = await sessionWith(runtime, { 'dot.png': PNG_1PX })
    llm.enqueue(
      {
        rawText:
          '```json\n{"tool_call": {"id": "call_j", "name": "display_image", "arguments": {"image_path": "dot.png"}}}\n```',
      },
      { rawText: 'A dot.' },
    )
    expect(await run(runtime, sessionId, 'Look at dot.png')).toMatchObject({ status: 'completed', answer: 'A dot.' })
    const last = openAiMessages(1).at(-1)
    expect(last).toEqual({
      role: 'user',
      content: [
        {
          type: 'text',
          text: `[Tool result for call call_j (display_image)]\nShowing dot.png (image/png, ${SIZE}).\n(its image is attached)`,
        },
        { type: 'image_url', image_url: { url: DOT_URL } },
      ],
    })
  })

  it('a symlink out of the workspace and a file that only claims to be an image are tool errors; the run goes on', async () => {
    llm = await startScriptedOpenAi()
    const runtime = await open(await tempDir())
    const outside = await tempDir()
    await writeFile(join(outside, 'secret.png'), PNG_1PX)
    const sessionId = await sessionWith(runtime, { 'fake.png': 'text pretending to be a picture' })
    await symlink(join(outside, 'secret.png'), join(runtime.runtime.workspaces.dirFor(sessionId), 'link.png'))
    llm.enqueue(
      { toolCalls: [displayCall('call_link', 'link.png')] },
      { toolCalls: [displayCall('call_fake', 'fake.png')] },
      { text: 'Neither could be shown.' },
    )
    expect(await run(runtime, sessionId, 'Show both')).toMatchObject({
      status: 'completed',
      answer: 'Neither could be shown.',
    })
    const results = (await eventsOf(runtime.runtime.store, sessionId)).filter((e) => e.type === 'tool_result')
    expect(results.map((e) => e.content.is_error)).toEqual([true, true])
    expect(String(results[0]?.content.result)).toMatch(/outside the workspace/)
    expect(String(results[1]?.content.result)).toBe(
      'Error: fake.png is not an image: its contents are not PNG, JPEG, GIF or WebP, whatever its name says.',
    )
    for (const result of results) expect(result.content.images).toBeUndefined()
    expect(bodyText(2)).not.toContain('image_url')
    expect(bodyText(2)).not.toContain(DOT_BASE64)
  })
})

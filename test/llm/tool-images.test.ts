import { afterEach, describe, expect, it } from 'vitest'
import { createLlm, createProvider } from '../../src/llm/create-llm.js'
import type { LlmImage, LlmMessage } from '../../src/llm/types.js'
import { PNG_1PX } from '../helpers/images.js'
import { startScriptedAnthropic } from '../helpers/scripted-llm/scripted-anthropic.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { BASH_TOOL, chutesAt, collect, configWith, llmRequest } from './llm-test-kit.js'

// Two different images, so a test sees which one went where.
const DOT: LlmImage = { mediaType: 'image/png', base64: PNG_1PX.toString('base64') }
const JPEG_BYTES = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0])
const PHOTO: LlmImage = { mediaType: 'image/jpeg', base64: JPEG_BYTES.toString('base64') }

/** One step with two calls: the first returned an image, the second text only; then a third step with two images. */
const HISTORY: LlmMessage[] = [
  { role: 'user', content: 'Look at the pictures' },
  {
    role: 'assistant',
    text: '',
    toolCalls: [
      { id: 'c1', name: 'display_image', input: { image_path: 'dot.png' } },
      { id: 'c2', name: 'bash', input: { command: 'ls' } },
    ],
  },
  { role: 'tool', toolCallId: 'c1', toolName: 'display_image', content: 'Showing dot.png', images: [DOT] },
  { role: 'tool', toolCallId: 'c2', toolName: 'bash', content: 'dot.png photo.jpg' },
  { role: 'assistant', text: '', toolCalls: [{ id: 'c3', name: 'display_image', input: { image_path: 'both' } }] },
  { role: 'tool', toolCallId: 'c3', toolName: 'display_image', content: 'Showing two', images: [PHOTO, DOT] },
]

let llm: ScriptedLlm
afterEach(async () => {
  await llm?.close()
})

const dataUrl = (image: LlmImage) => `data:${image.mediaType};base64,${image.base64}`
const imageUrlPart = (image: LlmImage) => ({ type: 'image_url', image_url: { url: dataUrl(image) } })
const anthropicImage = (image: LlmImage) => ({
  type: 'image',
  source: { type: 'base64', media_type: image.mediaType, data: image.base64 },
})

describe('images a tool returned, on the wire', () => {
  it('OpenAI-compatible: each step’s results stay together, then one user message holds their images', async () => {
    llm = await startScriptedOpenAi()
    llm.enqueue({ text: 'ok' })
    const provider = createProvider(chutesAt(llm.url), { provider: 'chutes', model: 'scripted' })
    await collect(provider.stream(llmRequest({ messages: HISTORY, tools: [BASH_TOOL] })))

    const messages = llm.requests[0]?.body.messages as { role: string; content: unknown; tool_call_id?: string }[]
    expect(messages.map((m) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'tool',
      'user',
      'assistant',
      'tool',
      'user',
    ])
    // A tool message carries text only.
    expect(messages[3]).toEqual({ role: 'tool', tool_call_id: 'c1', content: 'Showing dot.png' })
    expect(messages[4]).toEqual({ role: 'tool', tool_call_id: 'c2', content: 'dot.png photo.jpg' })
    expect(messages[5]).toEqual({
      role: 'user',
      content: [{ type: 'text', text: 'The image returned by tool call c1 (display_image):' }, imageUrlPart(DOT)],
    })
    expect(messages[8]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'The 2 images returned by tool call c3 (display_image):' },
        imageUrlPart(PHOTO),
        imageUrlPart(DOT),
      ],
    })
    // The exact bytes arrive.
    const parts = (messages[5]?.content ?? []) as { image_url?: { url: string } }[]
    const url = parts[1]?.image_url?.url ?? ''
    expect(Buffer.from(url.split(',')[1] ?? '', 'base64')).toEqual(PNG_1PX)
  })

  it('Anthropic: image blocks inside the tool_result, after its text', async () => {
    llm = await startScriptedAnthropic()
    llm.enqueue({ text: 'ok' })
    const provider = createProvider(configWith({ ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: llm.url }), {
      provider: 'anthropic',
      model: 'claude-sonnet-4-0',
    })
    await collect(provider.stream(llmRequest({ messages: HISTORY, tools: [BASH_TOOL] })))

    const messages = llm.requests[0]?.body.messages as { role: string; content: unknown[] }[]
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user'])
    expect(messages[2]?.content).toEqual([
      {
        type: 'tool_result',
        tool_use_id: 'c1',
        content: [{ type: 'text', text: 'Showing dot.png' }, anthropicImage(DOT)],
      },
      { type: 'tool_result', tool_use_id: 'c2', content: 'dot.png photo.jpg' },
    ])
    expect(messages[4]?.content).toEqual([
      {
        type: 'tool_result',
        tool_use_id: 'c3',
        content: [{ type: 'text', text: 'Showing two' }, anthropicImage(PHOTO), anthropicImage(DOT)],
      },
    ])
  })

  it('JSON tool-call mode over the OpenAI wire: the result’s user message carries its images', async () => {
    llm = await startScriptedOpenAi()
    llm.enqueue({ rawText: 'ok' })
    const json = createLlm(chutesAt(llm.url, { BERTH_TOOL_CALL_MODE: 'json' }))
    await collect(json.stream(llmRequest({ messages: HISTORY, tools: [BASH_TOOL] })))

    const messages = llm.requests[0]?.body.messages as { role: string; content: unknown }[]
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user'])
    const results = messages[3]?.content as { type: string; text?: string }[]
    expect(results[0]?.text).toBe(
      '[Tool result for call c1 (display_image)]\nShowing dot.png\n(its image is attached)\n\n' +
        '[Tool result for call c2 (bash)]\ndot.png photo.jpg',
    )
    expect(results.slice(1)).toEqual([imageUrlPart(DOT)])
    const last = messages[5]?.content as { type: string; text?: string }[]
    expect(last[0]?.text).toBe('[Tool result for call c3 (display_image)]\nShowing two\n(its 2 images are attached)')
    expect(last.slice(1)).toEqual([imageUrlPart(PHOTO), imageUrlPart(DOT)])
  })

  it('JSON tool-call mode over the Anthropic wire: image blocks in the user turn', async () => {
    llm = await startScriptedAnthropic()
    llm.enqueue({ rawText: 'ok' })
    const json = createLlm(
      configWith({
        ANTHROPIC_API_KEY: 'sk-test',
        ANTHROPIC_BASE_URL: llm.url,
        BERTH_MODEL: 'anthropic:claude-sonnet-4-0',
        BERTH_TOOL_CALL_MODE: 'json',
        BERTH_LLM_RETRY_DELAY_MS: '1',
      }),
    )
    await collect(json.stream(llmRequest({ messages: HISTORY, tools: [BASH_TOOL] })))

    const body = llm.requests[0]?.body as { tools?: unknown; messages: { role: string; content: unknown[] }[] }
    expect(body.tools).toBeUndefined()
    const last = body.messages.at(-1)
    expect(last?.role).toBe('user')
    expect(last?.content).toEqual([
      anthropicImage(PHOTO),
      anthropicImage(DOT),
      { type: 'text', text: '[Tool result for call c3 (display_image)]\nShowing two\n(its 2 images are attached)' },
    ])
  })
})

import { randomUUID } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { eventsOf } from '../agent/fixtures/harness.js'
import { openScriptedRuntime, type ScriptedRuntime } from '../agent/fixtures/scripted-runtime.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { PNG_1PX, WAV_TONE } from '../media/fixtures.js'
import { type MediaServer, startMediaServer } from '../media/media-server.js'

// A real run (store, workspace, toolset from the settings, the LLM over the openai SDK) in which the
// model calls the media tools; the media services are a local server speaking OpenAI's wire protocol.

let llm: ScriptedLlm
let media: MediaServer
let runtime: ScriptedRuntime | undefined
afterEach(async () => {
  await runtime?.close()
  runtime = undefined
  await llm?.close()
  await media?.close()
})

type ChatMessage = { role: string; content: unknown; tool_call_id?: string }
const messagesOf = (index: number) => (llm.requests[index]?.body.messages ?? []) as ChatMessage[]
const toolNamesOf = (index: number) =>
  ((llm.requests[index]?.body.tools ?? []) as { function: { name: string } }[]).map((tool) => tool.function.name)

async function open(): Promise<ScriptedRuntime> {
  llm = await startScriptedOpenAi()
  media = await startMediaServer()
  runtime = await openScriptedRuntime(await tempDir(), llm.url, {
    env: {
      BERTH_IMAGE_API_KEY: 'img-key-123',
      BERTH_IMAGE_BASE_URL: `${media.url}/v1`,
      BERTH_TRANSCRIPTION_API_KEY: 'stt-key-123',
      BERTH_TRANSCRIPTION_BASE_URL: `${media.url}/v1`,
      BERTH_PUBLIC_URL: 'https://berth.example.com',
    },
  })
  return runtime
}

describe('media tools in an agent run', () => {
  it('a generated image lands in the workspace and the model sees it in its next request', async () => {
    const { runs, runtime: rt } = await open()
    media.enqueue('POST /v1/images/generations', { body: { data: [{ b64_json: PNG_1PX.toString('base64') }] } })
    llm.enqueue(
      {
        toolCalls: [
          {
            id: 'call_img',
            name: 'generate_image_from_text',
            arguments: { prompt: 'a dot', output_filename: 'art/dot.png' },
          },
        ],
      },
      { text: 'Here is your dot.' },
    )
    const sessionId = randomUUID()
    await runs.start({ sessionId, text: 'Draw a dot' })
    expect(await runs.wait(sessionId)).toMatchObject({ status: 'completed' })

    expect(toolNamesOf(0)).toEqual(expect.arrayContaining(['generate_image_from_text', 'audio_transcribe']))
    expect(toolNamesOf(0)).not.toContain('generate_audio_response')
    const stored = await readFile(join(rt.workspaces.dirFor(sessionId), 'art/dot.png'))
    expect(stored.equals(PNG_1PX)).toBe(true)
    const url = `https://berth.example.com/workspace/${sessionId}/art/dot.png`
    expect(messagesOf(1).slice(-2)).toEqual([
      {
        role: 'tool',
        tool_call_id: 'call_img',
        content: `Generated an image from the prompt. Saved to art/dot.png (image/png, ${PNG_1PX.length} B). URL: ${url}`,
      },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'The image returned by tool call call_img (generate_image_from_text):' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_1PX.toString('base64')}` } },
        ],
      },
    ])
    const result = (await eventsOf(rt.store, sessionId)).find((event) => event.type === 'tool_result')
    expect(result?.content).toMatchObject({ images: [{ path: 'art/dot.png', media_type: 'image/png' }] })
  })

  it('audio_transcribe: the transcript reaches the model', async () => {
    const { runs, runtime: rt } = await open()
    const sessionId = randomUUID()
    const dir = await rt.workspaces.create(sessionId)
    await mkdir(join(dir, 'uploaded_files'), { recursive: true })
    await writeFile(join(dir, 'uploaded_files/memo.wav'), WAV_TONE)
    media.enqueue('POST /v1/audio/transcriptions', { body: { text: 'The meeting moves to Friday.' } })
    llm.enqueue(
      {
        toolCalls: [{ id: 'call_stt', name: 'audio_transcribe', arguments: { file_path: 'uploaded_files/memo.wav' } }],
      },
      { text: 'It moves to Friday.' },
    )
    await runs.start({ sessionId, text: 'What does memo.wav say?' })
    expect(await runs.wait(sessionId)).toMatchObject({ status: 'completed' })
    expect(messagesOf(1).at(-1)).toEqual({
      role: 'tool',
      tool_call_id: 'call_stt',
      content: 'The meeting moves to Friday.',
    })
    expect(media.requests[0]?.body.includes(WAV_TONE)).toBe(true)
  })
})

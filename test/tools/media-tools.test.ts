import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChutesImageProvider, ChutesTranscriptionProvider } from '../../src/media/chutes-media.js'
import {
  OpenAiImageProvider,
  OpenAiSpeechProvider,
  OpenAiTranscriptionProvider,
  OpenAiVideoProvider,
} from '../../src/media/openai-media.js'
import { createGetTextFromLocalFileTool } from '../../src/tools/get-text-from-local-file.js'
import { createAudioTranscribeTool } from '../../src/tools/media/audio-transcribe.js'
import { createGenerateAudioTool } from '../../src/tools/media/generate-audio.js'
import { createGenerateImageTool } from '../../src/tools/media/generate-image.js'
import { createGenerateVideoTool } from '../../src/tools/media/generate-video.js'
import { runTool } from '../../src/tools/run-tool.js'
import { JPEG_HEAD, MP3_SILENCE, MP4_CLIP, PNG_1PX, WAV_TONE } from '../media/fixtures.js'
import { FAST_RETRY, type MediaServer, startMediaServer } from '../media/media-server.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'

let server: MediaServer
let context: FakeToolContext
beforeEach(async () => {
  server = await startMediaServer()
})
afterEach(async () => {
  await context?.resources.dispose()
  await server.close()
})

const openai = (model: string, retry = FAST_RETRY) => ({ apiKey: 'sk-test', baseUrl: `${server.url}/v1`, model, retry })
const imageTool = (retry = FAST_RETRY) => createGenerateImageTool(new OpenAiImageProvider(openai('gpt-image-1', retry)))
const b64 = (bytes: Buffer) => ({ body: { data: [{ b64_json: bytes.toString('base64') }] } })

/** Every file under the workspace (temp files of a failed atomic write would show up here). */
async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort()
}

async function put(relative: string, bytes: Buffer): Promise<void> {
  const file = path.join(context.workspaceDir, relative)
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, bytes)
}

describe('generate_image_from_text', () => {
  it('writes the bytes byte-exact, names the file and its URL, and shows the image to the model', async () => {
    context = await makeToolContext({ publicUrl: 'https://berth.example.com/' })
    server.enqueue('POST /v1/images/generations', b64(PNG_1PX))
    const result = await runTool(imageTool(), { prompt: 'a dot', output_filename: 'generated images/dot.png' }, context)
    expect(result.isError).toBeUndefined()
    expect((await readFile(path.join(context.workspaceDir, 'generated images/dot.png'))).equals(PNG_1PX)).toBe(true)
    expect(result.output).toBe(
      `Generated an image from the prompt. Saved to generated images/dot.png (image/png, ${PNG_1PX.length} B). ` +
        `URL: https://berth.example.com/workspace/${context.sessionId}/generated%20images/dot.png`,
    )
    expect(result.images).toEqual([{ path: 'generated images/dot.png', mediaType: 'image/png' }])
    expect(result.output).not.toContain(context.workspaceDir)
  })

  it('Chutes answering a JPEG for a .png name: kept as .jpg, and the result says so', async () => {
    context = await makeToolContext()
    server.enqueue('POST /generate', { body: JPEG_HEAD, headers: { 'content-type': 'image/jpeg' } })
    const tool = createGenerateImageTool(
      new ChutesImageProvider({ apiKey: 'k', baseUrl: server.url, model: 'FLUX.1-schnell', retry: FAST_RETRY }),
    )
    const result = await runTool(tool, { prompt: 'x', output_filename: 'art/pic.png', guidance_scale: 3 }, context)
    expect(result.isError).toBeUndefined()
    expect(await filesIn(context.workspaceDir)).toEqual(['art/pic.jpg'])
    expect((await readFile(path.join(context.workspaceDir, 'art/pic.jpg'))).equals(JPEG_HEAD)).toBe(true)
    expect(result.output).toContain('so it was saved as art/pic.jpg instead of art/pic.png')
    expect(result.images).toEqual([{ path: 'art/pic.jpg', mediaType: 'image/jpeg' }])
  })

  it('an HTML or JSON answer where an image should be is a tool error, and nothing is written', async () => {
    context = await makeToolContext()
    server.enqueue('POST /generate', {
      body: '<!DOCTYPE html><html><body>Gateway error</body></html>',
      headers: { 'content-type': 'text/html' },
    })
    const tool = createGenerateImageTool(
      new ChutesImageProvider({ apiKey: 'k', baseUrl: server.url, model: 'FLUX.1-schnell', retry: FAST_RETRY }),
    )
    const result = await runTool(tool, { prompt: 'x', output_filename: 'a.png' }, context)
    expect(result.isError).toBe(true)
    expect(result.output).toMatch(
      /^Error: The image service answered HTML: <!DOCTYPE html>.* nothing was written to a\.png\./,
    )
    expect(result.images).toBeUndefined()
    expect(await filesIn(context.workspaceDir)).toEqual([])
  })

  it('over the workspace quota: a tool error, and no file', async () => {
    context = await makeToolContext({ quotaBytes: 40 })
    server.enqueue('POST /v1/images/generations', b64(PNG_1PX))
    const result = await runTool(imageTool(), { prompt: 'x', output_filename: 'a.png' }, context)
    expect(result.isError).toBe(true)
    expect(result.output).toContain('is full')
    expect(await filesIn(context.workspaceDir)).toEqual([])
  })

  it('a path outside the workspace or a wrong extension is refused before the service is paid', async () => {
    context = await makeToolContext()
    for (const output_filename of ['/etc/cron.d/x.png', '../escape.png', 'notes.txt']) {
      const result = await runTool(imageTool(), { prompt: 'x', output_filename }, context)
      expect(result.isError, output_filename).toBe(true)
    }
    const outside = await runTool(imageTool(), { prompt: 'x', output_filename: '/etc/cron.d/x.png' }, context)
    expect(outside.output).toContain('is outside the workspace')
    const wrong = await runTool(imageTool(), { prompt: 'x', output_filename: 'notes.txt' }, context)
    expect(wrong.output).toContain('output_filename must end with .png')
    expect(server.requests).toEqual([])
  })

  it('retries 429 and 500, then saves; a refused prompt and a timeout end as errors with no file', async () => {
    context = await makeToolContext()
    server.enqueue('POST /v1/images/generations', { status: 429, body: {} }, { status: 500, body: {} }, b64(PNG_1PX))
    const ok = await runTool(imageTool(), { prompt: 'x', output_filename: 'ok.png' }, context)
    expect(ok.isError).toBeUndefined()
    expect(server.requests).toHaveLength(3)

    server.enqueue('POST /v1/images/generations', {
      status: 400,
      body: { error: { code: 'content_policy_violation', message: 'Rejected by our safety system.' } },
    })
    const refused = await runTool(imageTool(), { prompt: 'x', output_filename: 'refused.png' }, context)
    expect(refused.isError).toBe(true)
    expect(refused.output).toContain('refused the request (HTTP 400): Rejected by our safety system.')
    expect(server.requests).toHaveLength(4)

    server.enqueue('POST /v1/images/generations', { hang: true })
    const slow = await runTool(
      imageTool({ ...FAST_RETRY, budgetMs: 200 }),
      { prompt: 'x', output_filename: 'slow.png' },
      context,
    )
    expect(slow.isError).toBe(true)
    expect(slow.output).toContain('No answer from the image service openai (gpt-image-1) within 0.2 s')
    expect(await filesIn(context.workspaceDir)).toEqual(['ok.png'])
  })
})

describe('generate_audio_response and generate_video_from_text', () => {
  it('speech: the MP3 lands byte-exact; a WAV name asks for WAV', async () => {
    context = await makeToolContext()
    const tool = createGenerateAudioTool(new OpenAiSpeechProvider(openai('gpt-4o-mini-tts')))
    server.enqueue('POST /v1/audio/speech', { body: MP3_SILENCE }, { body: WAV_TONE })
    const mp3 = await runTool(tool, { text: 'Hello', output_filename: 'audio/hello.mp3', voice: 'onyx' }, context)
    expect(mp3.isError).toBeUndefined()
    expect(mp3.output).toContain('Saved to audio/hello.mp3 (audio/mpeg, 1.2 KB).')
    expect((await readFile(path.join(context.workspaceDir, 'audio/hello.mp3'))).equals(MP3_SILENCE)).toBe(true)
    expect(mp3.images).toBeUndefined()
    const wav = await runTool(tool, { text: 'Hi', output_filename: 'audio/hi.wav' }, context)
    expect(wav.isError).toBeUndefined()
    expect(JSON.parse(server.requests[1]?.body.toString() ?? '{}')).toMatchObject({
      response_format: 'wav',
      voice: 'alloy',
    })
    expect((await readFile(path.join(context.workspaceDir, 'audio/hi.wav'))).equals(WAV_TONE)).toBe(true)
  })

  it('speech answered with an image is an error and writes nothing', async () => {
    context = await makeToolContext()
    const tool = createGenerateAudioTool(new OpenAiSpeechProvider(openai('gpt-4o-mini-tts')))
    server.enqueue('POST /v1/audio/speech', { body: PNG_1PX })
    const result = await runTool(tool, { text: 'Hello', output_filename: 'hello.mp3' }, context)
    expect(result.isError).toBe(true)
    expect(result.output).toContain('answered image/png')
    expect(await filesIn(context.workspaceDir)).toEqual([])
  })

  it('video: the MP4 of a completed job lands byte-exact', async () => {
    context = await makeToolContext()
    const job = (status: string) => ({ id: 'v1', object: 'video', status, progress: 0, error: null })
    server.enqueue('POST /v1/videos', { body: job('queued') })
    server.enqueue('GET /v1/videos/v1', { body: job('completed') })
    server.enqueue('GET /v1/videos/v1/content', { body: MP4_CLIP })
    const tool = createGenerateVideoTool(new OpenAiVideoProvider(openai('sora-2'), { pollMs: 5, budgetMs: 5000 }))
    const result = await runTool(tool, { prompt: 'waves', output_filename: 'clips/waves.mp4' }, context)
    expect(result.isError).toBeUndefined()
    expect(result.output).toContain(`/workspace/${context.sessionId}/clips/waves.mp4`)
    expect((await readFile(path.join(context.workspaceDir, 'clips/waves.mp4'))).equals(MP4_CLIP)).toBe(true)
  })
})

describe('audio_transcribe and the file reader', () => {
  it('transcribes a workspace file; the file reader uses the same provider for audio', async () => {
    context = await makeToolContext()
    await put('uploaded_files/memo.wav', WAV_TONE)
    server.fallback('POST /v1/audio/transcriptions', { body: { text: 'Meet at noon.' } })
    const provider = new OpenAiTranscriptionProvider(openai('gpt-4o-transcribe'))
    const result = await runTool(createAudioTranscribeTool(provider), { file_path: 'uploaded_files/memo.wav' }, context)
    expect(result).toEqual({ output: 'Meet at noon.' })
    expect(server.requests[0]?.body.includes(WAV_TONE)).toBe(true)

    const read = await runTool(
      createGetTextFromLocalFileTool({ transcription: provider }),
      { file_path: 'uploaded_files/memo.wav' },
      context,
    )
    expect(read.output).toBe(
      `Transcript of uploaded_files/memo.wav (a WAV audio file, ${WAV_TONE.length} B):\n\nMeet at noon.`,
    )
  })

  it('Chutes Whisper works the same; a fake .mp3, a missing file and a path outside are refused', async () => {
    context = await makeToolContext()
    await put('a.mp3', MP3_SILENCE)
    await put('fake.mp3', Buffer.from('not audio at all'))
    server.fallback('POST /transcribe', { body: [{ text: ' Hello.' }] })
    const tool = createAudioTranscribeTool(
      new ChutesTranscriptionProvider({
        apiKey: 'k',
        baseUrl: server.url,
        model: 'whisper-large-v3',
        retry: FAST_RETRY,
      }),
    )
    expect(await runTool(tool, { file_path: 'a.mp3' }, context)).toEqual({ output: 'Hello.' })
    const fake = await runTool(tool, { file_path: 'fake.mp3' }, context)
    expect(fake).toMatchObject({
      isError: true,
      output: expect.stringContaining('is not an audio file by its contents'),
    })
    const missing = await runTool(tool, { file_path: 'nope.wav' }, context)
    expect(missing).toMatchObject({ isError: true, output: expect.stringContaining('File not found: nope.wav') })
    const outside = await runTool(tool, { file_path: '/etc/passwd.wav' }, context)
    expect(outside).toMatchObject({ isError: true, output: expect.stringContaining('outside the workspace') })
    expect(server.requests).toHaveLength(1)
  })
})

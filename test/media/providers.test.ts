import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChutesImageProvider, ChutesTranscriptionProvider } from '../../src/media/chutes-media.js'
import { MediaError } from '../../src/media/media-error.js'
import {
  OpenAiImageProvider,
  OpenAiSpeechProvider,
  OpenAiTranscriptionProvider,
  OpenAiVideoProvider,
} from '../../src/media/openai-media.js'
import type { MediaRetryPolicy } from '../../src/media/retry.js'
import { MP3_SILENCE, MP4_CLIP, PNG_1PX, WAV_TONE } from './fixtures.js'
import { FAST_RETRY, type MediaServer, startMediaServer } from './media-server.js'

let server: MediaServer
beforeEach(async () => {
  server = await startMediaServer()
})
afterEach(async () => {
  await server.close()
})

const signal = () => new AbortController().signal
const openai = (model = 'gpt-image-1', retry: MediaRetryPolicy = FAST_RETRY) => ({
  apiKey: 'sk-test',
  baseUrl: `${server.url}/v1`,
  model,
  retry,
})
const json = (index: number) => JSON.parse(server.requests[index]?.body.toString('utf8') ?? 'null')
async function failure(promise: Promise<unknown>): Promise<MediaError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(MediaError)
  return error as MediaError
}

describe('OpenAI-compatible images through the openai SDK', () => {
  it('a b64_json answer: the PNG bytes exactly, the request as the Images API expects', async () => {
    server.enqueue('POST /v1/images/generations', {
      body: { created: 1, data: [{ b64_json: PNG_1PX.toString('base64') }] },
    })
    const answer = await new OpenAiImageProvider(openai()).generate(
      { prompt: 'a red dot', negativePrompt: 'blur', width: 1024, height: 1536 },
      signal(),
    )
    expect(Buffer.from(answer.bytes).equals(PNG_1PX)).toBe(true)
    expect(answer.mediaType).toBe('image/png')
    expect(server.requests[0]?.headers.authorization).toBe('Bearer sk-test')
    expect(json(0)).toEqual({ model: 'gpt-image-1', prompt: 'a red dot\n\nAvoid: blur', n: 1, size: '1024x1536' })
  })

  it('a url answer is fetched (same signal); a failing fetch of it is an HTTP error', async () => {
    server.enqueue('POST /v1/images/generations', { body: { data: [{ url: `${server.url}/files/out.png` }] } })
    server.enqueue('GET /files/out.png', { body: PNG_1PX, headers: { 'content-type': 'image/png' } })
    const provider = new OpenAiImageProvider(openai('dall-e-3'))
    const answer = await provider.generate({ prompt: 'x' }, signal())
    expect(Buffer.from(answer.bytes).equals(PNG_1PX)).toBe(true)
    expect(answer.mediaType).toBe('image/png')

    server.enqueue('POST /v1/images/generations', { body: { data: [{ url: `${server.url}/files/gone.png` }] } })
    server.enqueue('GET /files/gone.png', { status: 410, body: 'expired' })
    const error = await failure(provider.generate({ prompt: 'x' }, signal()))
    expect(error.code).toBe('MEDIA_REQUEST_FAILED')
    expect(error.message).toContain('HTTP 410')
  })

  it('429 and 500 are retried, then the answer is used', async () => {
    server.enqueue(
      'POST /v1/images/generations',
      { status: 429, body: { error: { message: 'slow down' } }, headers: { 'retry-after-ms': '5' } },
      { status: 500, body: { error: { message: 'boom' } } },
      { body: { data: [{ b64_json: PNG_1PX.toString('base64') }] } },
    )
    const retries: { status: number | undefined; delayMs: number }[] = []
    const policy = {
      ...FAST_RETRY,
      onRetry: (e: { error: MediaError; delayMs: number }) =>
        retries.push({ status: e.error.httpStatus, delayMs: e.delayMs }),
    }
    const answer = await new OpenAiImageProvider(openai('gpt-image-1', policy)).generate({ prompt: 'x' }, signal())
    expect(Buffer.from(answer.bytes).equals(PNG_1PX)).toBe(true)
    expect(server.requests).toHaveLength(3)
    // The 429's Retry-After is honoured; the 500 gets the backoff.
    expect(retries).toEqual([
      { status: 429, delayMs: 5 },
      { status: 500, delayMs: expect.any(Number) },
    ])
  })

  it('gives up after the retries with the last error, naming the service and status', async () => {
    server.fallback('POST /v1/images/generations', { status: 503, body: { error: { message: 'overloaded' } } })
    const error = await failure(new OpenAiImageProvider(openai()).generate({ prompt: 'x' }, signal()))
    expect(error.code).toBe('MEDIA_REQUEST_FAILED')
    expect(error.message).toBe('The image service openai (gpt-image-1) answered HTTP 503: overloaded')
    expect(server.requests).toHaveLength(1 + FAST_RETRY.maxRetries)
  })

  it('a prompt refused by the content policy is MEDIA_REFUSED and not retried', async () => {
    server.fallback('POST /v1/images/generations', {
      status: 400,
      body: {
        error: {
          code: 'content_policy_violation',
          message: 'Your request was rejected as a result of our safety system.',
          type: 'invalid_request_error',
        },
      },
    })
    const error = await failure(new OpenAiImageProvider(openai()).generate({ prompt: 'x' }, signal()))
    expect(error.code).toBe('MEDIA_REFUSED')
    expect(error.message).toContain('rejected as a result of our safety system')
    expect(server.requests).toHaveLength(1)
  })

  it('another 4xx (a bad key) is final, not retried', async () => {
    server.fallback('POST /v1/images/generations', { status: 401, body: { error: { message: 'bad key' } } })
    const error = await failure(new OpenAiImageProvider(openai()).generate({ prompt: 'x' }, signal()))
    expect(error.code).toBe('MEDIA_REQUEST_FAILED')
    expect(error.retryable).toBe(false)
    expect(server.requests).toHaveLength(1)
  })

  it('a service that never answers ends as MEDIA_TIMEOUT within the budget', async () => {
    server.fallback('POST /v1/images/generations', { hang: true })
    const started = Date.now()
    const error = await failure(
      new OpenAiImageProvider(openai('gpt-image-1', { ...FAST_RETRY, budgetMs: 300 })).generate(
        { prompt: 'x' },
        signal(),
      ),
    )
    expect(error.code).toBe('MEDIA_TIMEOUT')
    expect(error.message).toContain('within 0.3 s')
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('a cancelled call ends at once as TOOL_ABORTED', async () => {
    server.fallback('POST /v1/images/generations', { hang: true })
    const controller = new AbortController()
    const pending = new OpenAiImageProvider(openai()).generate({ prompt: 'x' }, controller.signal)
    setTimeout(() => controller.abort(), 50)
    expect((await failure(pending)).code).toBe('TOOL_ABORTED')
  })
})

describe('speech and transcription through the openai SDK', () => {
  it('/audio/speech: the MP3 bytes exactly; voice, format and the persona as instructions', async () => {
    server.enqueue('POST /v1/audio/speech', { body: MP3_SILENCE, headers: { 'content-type': 'audio/mpeg' } })
    const answer = await new OpenAiSpeechProvider(openai('gpt-4o-mini-tts')).speak(
      { text: 'Hello', voice: 'nova', format: 'mp3', instructions: 'Cheerful.' },
      signal(),
    )
    expect(Buffer.from(answer.bytes).equals(MP3_SILENCE)).toBe(true)
    expect(json(0)).toEqual({
      model: 'gpt-4o-mini-tts',
      voice: 'nova',
      input: 'Hello',
      response_format: 'mp3',
      instructions: 'Cheerful.',
    })
  })

  it('/audio/transcriptions: the file goes as multipart with its name and model; the text comes back', async () => {
    server.enqueue('POST /v1/audio/transcriptions', { body: { text: ' Hello from berth. ' } })
    const text = await new OpenAiTranscriptionProvider(openai('gpt-4o-transcribe')).transcribe(
      { bytes: WAV_TONE, fileName: 'memo.wav' },
      signal(),
    )
    expect(text).toBe('Hello from berth.')
    const request = server.requests[0]
    expect(request?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/)
    expect(request?.body.includes(WAV_TONE)).toBe(true)
    expect(request?.body.toString('latin1')).toContain('filename="memo.wav"')
    expect(request?.body.toString('latin1')).toMatch(/name="model"\r\n\r\ngpt-4o-transcribe/)
  })
})

describe('Chutes as the reference calls it', () => {
  it('image: POST /generate with the reference defaults, answered with the image bytes', async () => {
    server.enqueue('POST /generate', { body: PNG_1PX, headers: { 'content-type': 'image/png' } })
    const provider = new ChutesImageProvider({
      apiKey: 'cpk',
      baseUrl: server.url,
      model: 'FLUX.1-schnell',
      retry: FAST_RETRY,
    })
    const answer = await provider.generate({ prompt: 'a lighthouse', width: 512 }, signal())
    expect(Buffer.from(answer.bytes).equals(PNG_1PX)).toBe(true)
    expect(server.requests[0]?.headers.authorization).toBe('Bearer cpk')
    expect(json(0)).toEqual({
      prompt: 'a lighthouse',
      negative_prompt: 'blur, distortion, low quality',
      guidance_scale: 7.5,
      width: 512,
      height: 1024,
      num_inference_steps: 50,
    })
  })

  it('whisper: POST /transcribe {audio_b64}; the segments are joined; a non-list answer is MEDIA_INVALID_OUTPUT', async () => {
    const provider = new ChutesTranscriptionProvider({
      apiKey: 'cpk',
      baseUrl: server.url,
      model: 'whisper-large-v3',
      retry: FAST_RETRY,
    })
    server.enqueue('POST /transcribe', {
      body: [
        { text: ' Hello', start: 0 },
        { text: ' world.', start: 1 },
      ],
    })
    expect(await provider.transcribe({ bytes: WAV_TONE, fileName: 'a.wav' }, signal())).toBe('Hello world.')
    expect(json(0)).toEqual({ audio_b64: WAV_TONE.toString('base64') })

    server.enqueue('POST /transcribe', { body: { detail: 'weird' } })
    expect((await failure(provider.transcribe({ bytes: WAV_TONE, fileName: 'a.wav' }, signal()))).code).toBe(
      'MEDIA_INVALID_OUTPUT',
    )
  })
})

describe('OpenAI video through client.videos', () => {
  const job = (status: string, extra: Record<string, unknown> = {}) => ({
    id: 'video_1',
    object: 'video',
    status,
    progress: status === 'completed' ? 100 : 10,
    model: 'sora-2',
    created_at: 1,
    completed_at: null,
    expires_at: null,
    error: null,
    prompt: 'waves',
    remixed_from_video_id: null,
    seconds: '4',
    size: '720x1280',
    ...extra,
  })

  it('creates a job, polls it until completed, downloads the MP4', async () => {
    server.enqueue(
      'POST /v1/videos',
      { status: 500, body: { error: { message: 'try again' } } },
      { body: job('queued') },
    )
    server.enqueue('GET /v1/videos/video_1', { body: job('in_progress') }, { body: job('completed') })
    server.enqueue('GET /v1/videos/video_1/content', { body: MP4_CLIP, headers: { 'content-type': 'video/mp4' } })
    const provider = new OpenAiVideoProvider(openai('sora-2'), { pollMs: 5, budgetMs: 10_000 })
    const answer = await provider.generate({ prompt: 'waves' }, signal())
    expect(Buffer.from(answer.bytes).equals(MP4_CLIP)).toBe(true)
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/videos',
      'POST /v1/videos',
      'GET /v1/videos/video_1',
      'GET /v1/videos/video_1',
      'GET /v1/videos/video_1/content',
    ])
    expect(server.requests[1]?.body.toString('latin1')).toMatch(/name="prompt"\r\n\r\nwaves/)
  })

  it('a job failed by moderation is MEDIA_REFUSED; a job that never ends is MEDIA_TIMEOUT', async () => {
    server.enqueue('POST /v1/videos', { body: job('queued') })
    server.enqueue('GET /v1/videos/video_1', {
      body: job('failed', { error: { code: 'moderation_blocked', message: 'blocked by moderation' } }),
    })
    const provider = new OpenAiVideoProvider(openai('sora-2'), { pollMs: 5, budgetMs: 10_000 })
    expect((await failure(provider.generate({ prompt: 'x' }, signal()))).code).toBe('MEDIA_REFUSED')

    server.enqueue('POST /v1/videos', { body: job('queued') })
    server.fallback('GET /v1/videos/video_1', { body: job('in_progress') })
    const slow = new OpenAiVideoProvider(openai('sora-2'), { pollMs: 20, budgetMs: 200 })
    const error = await failure(slow.generate({ prompt: 'x' }, signal()))
    expect(error.code).toBe('MEDIA_TIMEOUT')
    expect(error.message).toContain('10% done')
  })
})

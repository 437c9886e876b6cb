import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.js'
import { createMediaProviders, mediaAvailability, mediaEndpoint } from '../../src/media/media-config.js'
import { describeNonMedia, sniffMedia } from '../../src/media/media-type.js'
import { isSecretName } from '../../src/tools/bash/shell-env.js'
import { configuredSecrets, createToolset } from '../../src/tools/toolset.js'
import { MP3_SILENCE, MP4_CLIP, PNG_1PX, WAV_TONE } from './fixtures.js'

const config = (env: Record<string, string>) => loadConfig({ env, envFile: false })
const MEDIA_TOOLS = [
  'generate_image_from_text',
  'generate_audio_response',
  'audio_transcribe',
  'generate_video_from_text',
]
const mediaToolNames = (env: Record<string, string>) =>
  createToolset(config(env))
    .map((tool) => tool.name)
    .filter((name) => MEDIA_TOOLS.includes(name))

describe('which media providers are configured', () => {
  it('nothing without keys: no media tool is offered and GET /api/media says so', () => {
    expect(mediaAvailability(config({}))).toEqual({ image: false, speech: false, transcription: false, video: false })
    expect(mediaToolNames({})).toEqual([])
  })

  it('CHUTES_API_KEY: Chutes FLUX images and Chutes Whisper, as the reference used the key', () => {
    const c = config({ CHUTES_API_KEY: 'cpk-123456789' })
    expect(mediaEndpoint(c, 'image')).toEqual({
      protocol: 'chutes',
      apiKey: 'cpk-123456789',
      baseUrl: 'https://chutes-flux-1-schnell.chutes.ai',
      model: 'FLUX.1-schnell',
    })
    expect(mediaEndpoint(c, 'transcription')?.baseUrl).toBe('https://chutes-whisper-large-v3.chutes.ai')
    expect(mediaAvailability(c)).toEqual({ image: true, speech: false, transcription: true, video: false })
    expect(mediaToolNames({ CHUTES_API_KEY: 'cpk-123456789' })).toEqual([
      'generate_image_from_text',
      'audio_transcribe',
    ])
  })

  it('OPENAI_API_KEY: OpenAI for every kind; both keys: Chutes draws, OpenAI transcribes', () => {
    const c = config({ OPENAI_API_KEY: 'sk-123456789' })
    expect(mediaAvailability(c)).toEqual({ image: true, speech: true, transcription: true, video: true })
    expect(mediaEndpoint(c, 'speech')).toEqual({
      protocol: 'openai',
      apiKey: 'sk-123456789',
      baseUrl: 'https://api.openai.com/v1',
      model: 'gpt-4o-mini-tts',
    })
    const both = config({ OPENAI_API_KEY: 'sk-123456789', CHUTES_API_KEY: 'cpk-123456789' })
    expect(mediaEndpoint(both, 'image')?.protocol).toBe('chutes')
    expect(mediaEndpoint(both, 'transcription')?.protocol).toBe('openai')
  })

  it('an LLM key whose base URL points elsewhere is not sent to a media host, unless the provider is named', () => {
    const proxied = config({ OPENAI_API_KEY: 'sk-123456789', OPENAI_BASE_URL: 'http://vllm.local/v1' })
    expect(mediaAvailability(proxied)).toEqual({ image: false, speech: false, transcription: false, video: false })
    const named = config({
      CHUTES_API_KEY: 'cpk-123456789',
      CHUTES_BASE_URL: 'http://proxy.local/v1',
      BERTH_IMAGE_PROVIDER: 'chutes',
    })
    expect(mediaEndpoint(named, 'image')?.baseUrl).toBe('https://chutes-flux-1-schnell.chutes.ai')
    expect(mediaEndpoint(named, 'transcription')).toBeNull()
  })

  it('a kind’s own settings win; a base URL alone is a keyless server; off is off', () => {
    const c = config({
      CHUTES_API_KEY: 'cpk-123456789',
      BERTH_IMAGE_BASE_URL: 'http://images.local/v1',
      BERTH_IMAGE_MODEL: 'flux-dev',
      BERTH_TRANSCRIPTION_PROVIDER: 'off',
      BERTH_SPEECH_API_KEY: 'speech-key-123',
    })
    expect(mediaEndpoint(c, 'image')).toEqual({
      protocol: 'openai',
      apiKey: undefined,
      baseUrl: 'http://images.local/v1',
      model: 'flux-dev',
    })
    expect(mediaEndpoint(c, 'transcription')).toBeNull()
    expect(mediaEndpoint(c, 'speech')?.baseUrl).toBe('https://api.openai.com/v1')
    const providers = createMediaProviders(c)
    expect(providers.image?.provider).toBe('openai')
    expect(providers.transcription).toBeUndefined()
  })

  it('the media keys are among the secrets kept out of the shell', () => {
    const secrets = configuredSecrets(
      config({ BERTH_IMAGE_API_KEY: 'img-secret-1', BERTH_TRANSCRIPTION_API_KEY: 'stt-secret-1' }),
    )
    expect(secrets).toEqual(expect.arrayContaining(['img-secret-1', 'stt-secret-1']))
    for (const kind of ['IMAGE', 'SPEECH', 'TRANSCRIPTION', 'VIDEO']) {
      expect(isSecretName(`BERTH_${kind}_API_KEY`)).toBe(true)
    }
  })
})

describe('media types by first bytes', () => {
  it('knows PNG, MP3, WAV, MP4, WebM; HTML and JSON are not media', () => {
    expect(sniffMedia(PNG_1PX)?.mediaType).toBe('image/png')
    expect(sniffMedia(MP3_SILENCE)?.mediaType).toBe('audio/mpeg')
    expect(sniffMedia(WAV_TONE)?.mediaType).toBe('audio/wav')
    expect(sniffMedia(MP4_CLIP)).toEqual({ class: 'video', mediaType: 'video/mp4', extension: 'mp4' })
    expect(sniffMedia(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81]))?.mediaType).toBe('video/webm')
    expect(sniffMedia(Buffer.from('<!DOCTYPE html><html>error</html>'))).toBeUndefined()
    expect(describeNonMedia(Buffer.from('<!DOCTYPE html><html>error</html>'))).toMatch(/^HTML: /)
    expect(describeNonMedia(Buffer.from('{"error":"quota"}'))).toBe('JSON: {"error":"quota"}')
  })
})

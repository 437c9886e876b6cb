import { setTimeout as sleep } from 'node:timers/promises'
import OpenAI, { toFile } from 'openai'
import { httpError, MediaError, type MediaSite, toMediaError } from './media-error.js'
import { readBody } from './read-body.js'
import { type MediaRetryPolicy, withMediaRetries } from './retry.js'
import type {
  ImageProvider,
  ImageRequest,
  MediaBytes,
  SpeechProvider,
  SpeechRequest,
  TranscriptionProvider,
  TranscriptionRequest,
  VideoProvider,
  VideoRequest,
} from './types.js'

/** Where an OpenAI-compatible media API is and how to call it. */
export interface OpenAiMediaOptions {
  /** Unset: a keyless compatible server at an explicit base URL. */
  apiKey?: string | undefined
  baseUrl: string
  model: string
  retry: MediaRetryPolicy
}

const SPEECH_TYPES: Record<SpeechRequest['format'], string> = {
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  opus: 'audio/ogg',
  flac: 'audio/flac',
}

function clientFor(options: OpenAiMediaOptions): OpenAI {
  return new OpenAI({
    // The SDK needs some key; a keyless server ignores it.
    apiKey: options.apiKey ?? 'no-key',
    baseURL: options.baseUrl,
    // Retries are berth's (retry.ts), so they follow BERTH_LLM_MAX_RETRIES and the media budget.
    maxRetries: 0,
    timeout: options.retry.budgetMs,
  })
}

/**
 * The Images API (`POST /images/generations`) through the openai SDK. An
 * answer carries base64 (`b64_json`) or a URL, which is fetched within the
 * same budget. OpenAI has no negative prompt, guidance or steps: the
 * negative prompt is added to the prompt as things to avoid, the rest is not
 * sent; width and height become `size` when both are given.
 */
export class OpenAiImageProvider implements ImageProvider {
  readonly provider = 'openai'
  readonly model: string
  readonly #client: OpenAI
  readonly #options: OpenAiMediaOptions

  constructor(options: OpenAiMediaOptions) {
    this.model = options.model
    this.#options = options
    this.#client = clientFor(options)
  }

  generate(request: ImageRequest, signal: AbortSignal): Promise<MediaBytes> {
    const site: MediaSite = { kind: 'image', provider: this.provider, model: this.model }
    const prompt =
      request.negativePrompt === undefined || request.negativePrompt.trim() === ''
        ? request.prompt
        : `${request.prompt}\n\nAvoid: ${request.negativePrompt}`
    const size =
      request.width !== undefined && request.height !== undefined ? `${request.width}x${request.height}` : undefined
    return withMediaRetries(site, this.#options.retry, signal, async (attempt) => {
      const answer = await this.#client.images.generate(
        { model: this.model, prompt, n: 1, ...(size === undefined ? {} : { size: size as '1024x1024' }) },
        { signal: attempt },
      )
      const item = answer.data?.[0]
      if (item?.b64_json) {
        const format = (answer as { output_format?: string }).output_format ?? 'png'
        return { bytes: Buffer.from(item.b64_json, 'base64'), mediaType: `image/${format === 'jpg' ? 'jpeg' : format}` }
      }
      if (item?.url) {
        const response = await fetch(item.url, { signal: attempt })
        if (!response.ok) throw httpError(site, response.status, await response.text(), response.headers)
        return { bytes: await readBody(response, site), mediaType: response.headers.get('content-type') ?? '' }
      }
      throw new MediaError(
        'MEDIA_INVALID_OUTPUT',
        `The image service ${this.provider} (${this.model}) answered without an image (no b64_json and no url).`,
        { site },
      )
    })
  }
}

/** Text to speech (`POST /audio/speech`) through the openai SDK; the persona goes in `instructions`. */
export class OpenAiSpeechProvider implements SpeechProvider {
  readonly provider = 'openai'
  readonly model: string
  readonly #client: OpenAI
  readonly #options: OpenAiMediaOptions

  constructor(options: OpenAiMediaOptions) {
    this.model = options.model
    this.#options = options
    this.#client = clientFor(options)
  }

  speak(request: SpeechRequest, signal: AbortSignal): Promise<MediaBytes> {
    const site: MediaSite = { kind: 'speech', provider: this.provider, model: this.model }
    return withMediaRetries(site, this.#options.retry, signal, async (attempt) => {
      const response = await this.#client.audio.speech.create(
        {
          model: this.model,
          voice: request.voice,
          input: request.text,
          response_format: request.format,
          ...(request.instructions === undefined ? {} : { instructions: request.instructions }),
        },
        { signal: attempt },
      )
      return { bytes: await readBody(response, site), mediaType: SPEECH_TYPES[request.format] }
    })
  }
}

/** Speech to text (`POST /audio/transcriptions`, multipart) through the openai SDK. */
export class OpenAiTranscriptionProvider implements TranscriptionProvider {
  readonly provider = 'openai'
  readonly model: string
  readonly #client: OpenAI
  readonly #options: OpenAiMediaOptions

  constructor(options: OpenAiMediaOptions) {
    this.model = options.model
    this.#options = options
    this.#client = clientFor(options)
  }

  transcribe(request: TranscriptionRequest, signal: AbortSignal): Promise<string> {
    const site: MediaSite = { kind: 'transcription', provider: this.provider, model: this.model }
    return withMediaRetries(site, this.#options.retry, signal, async (attempt) => {
      const file = await toFile(Buffer.from(request.bytes), request.fileName)
      const answer = await this.#client.audio.transcriptions.create({ model: this.model, file }, { signal: attempt })
      return answer.text.trim()
    })
  }
}

/** How often a video job is asked about, and how long it may take in all. */
export interface VideoPolling {
  pollMs: number
  budgetMs: number
}

/**
 * OpenAI's video API (`client.videos`: Sora): a job is created, polled until
 * it completes or fails, then its MP4 is downloaded. Each request is retried
 * on its own (a retry never starts a second job); the whole job has its own
 * budget (BERTH_VIDEO_TIMEOUT), since videos take minutes.
 */
export class OpenAiVideoProvider implements VideoProvider {
  readonly provider = 'openai'
  readonly model: string
  readonly #client: OpenAI
  readonly #options: OpenAiMediaOptions
  readonly #polling: VideoPolling

  constructor(options: OpenAiMediaOptions, polling: VideoPolling) {
    this.model = options.model
    this.#options = options
    this.#polling = polling
    this.#client = clientFor({ ...options, retry: { ...options.retry, budgetMs: polling.budgetMs } })
  }

  async generate(request: VideoRequest, signal: AbortSignal): Promise<MediaBytes> {
    const site: MediaSite = { kind: 'video', provider: this.provider, model: this.model }
    const deadline = Date.now() + this.#polling.budgetMs
    const step = <T>(call: (attempt: AbortSignal) => Promise<T>): Promise<T> => {
      const left = deadline - Date.now()
      if (left <= 0) throw this.#timeout(site)
      return withMediaRetries(site, { ...this.#options.retry, budgetMs: left }, signal, call)
    }
    let video = await step((attempt) =>
      this.#client.videos.create({ prompt: request.prompt, model: this.model }, { signal: attempt }),
    )
    while (video.status === 'queued' || video.status === 'in_progress') {
      if (Date.now() + this.#polling.pollMs >= deadline) throw this.#timeout(site, video.progress)
      try {
        await sleep(this.#polling.pollMs, undefined, { signal })
      } catch (error) {
        throw toMediaError(error, site, signal)
      }
      const id = video.id
      video = await step((attempt) => this.#client.videos.retrieve(id, { signal: attempt }))
    }
    if (video.status !== 'completed') {
      const reason = video.error?.message ?? `the job ended as ${video.status}`
      const refused = /moderation|policy|safety/i.test(`${video.error?.code ?? ''} ${reason}`)
      throw new MediaError(
        refused ? 'MEDIA_REFUSED' : 'MEDIA_REQUEST_FAILED',
        `The video service ${this.provider} (${this.model}) did not make the video: ${reason}` +
          (refused ? '. Rephrase the prompt so it does not break the service’s content policy, or tell the user.' : ''),
        { site },
      )
    }
    const id = video.id
    return step(async (attempt) => {
      const response = await this.#client.videos.downloadContent(id, {}, { signal: attempt })
      return { bytes: await readBody(response, site), mediaType: response.headers.get('content-type') ?? 'video/mp4' }
    })
  }

  #timeout(site: MediaSite, progress?: number): MediaError {
    const seconds = Math.round(this.#polling.budgetMs / 100) / 10
    return new MediaError(
      'MEDIA_TIMEOUT',
      `The video service ${site.provider} (${site.model}) did not finish within ${seconds} s` +
        (progress === undefined ? '.' : ` (it reported ${progress}% done).`),
      { site },
    )
  }
}

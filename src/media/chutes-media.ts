import { httpError, MediaError, type MediaSite } from './media-error.js'
import { readBody } from './read-body.js'
import { type MediaRetryPolicy, withMediaRetries } from './retry.js'
import type { ImageProvider, ImageRequest, MediaBytes, TranscriptionProvider, TranscriptionRequest } from './types.js'

/** A Chutes endpoint: each model is its own host (`https://chutes-flux-1-schnell.chutes.ai`); no SDK exists. */
export interface ChutesMediaOptions {
  apiKey?: string | undefined
  baseUrl: string
  /** A name for messages; the host picks the model. */
  model: string
  retry: MediaRetryPolicy
}

/** The defaults of the reference's image tool, sent when the model gives none. */
export const CHUTES_IMAGE_DEFAULTS = {
  negativePrompt: 'blur, distortion, low quality',
  guidanceScale: 7.5,
  width: 1024,
  height: 1024,
  numInferenceSteps: 50,
} as const

function headers(apiKey: string | undefined): Record<string, string> {
  return {
    'content-type': 'application/json',
    ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
  }
}

function endpoint(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`
}

/**
 * Chutes image generation as the reference calls it: `POST <base>/generate`
 * with `{prompt, negative_prompt, guidance_scale, width, height,
 * num_inference_steps}`, answered with the image's bytes.
 */
export class ChutesImageProvider implements ImageProvider {
  readonly provider = 'chutes'
  readonly model: string
  readonly #options: ChutesMediaOptions

  constructor(options: ChutesMediaOptions) {
    this.model = options.model
    this.#options = options
  }

  generate(request: ImageRequest, signal: AbortSignal): Promise<MediaBytes> {
    const site: MediaSite = { kind: 'image', provider: this.provider, model: this.model }
    const body = JSON.stringify({
      prompt: request.prompt,
      negative_prompt: request.negativePrompt ?? CHUTES_IMAGE_DEFAULTS.negativePrompt,
      guidance_scale: request.guidanceScale ?? CHUTES_IMAGE_DEFAULTS.guidanceScale,
      width: request.width ?? CHUTES_IMAGE_DEFAULTS.width,
      height: request.height ?? CHUTES_IMAGE_DEFAULTS.height,
      num_inference_steps: request.numInferenceSteps ?? CHUTES_IMAGE_DEFAULTS.numInferenceSteps,
    })
    return withMediaRetries(site, this.#options.retry, signal, async (attempt) => {
      const response = await fetch(endpoint(this.#options.baseUrl, '/generate'), {
        method: 'POST',
        headers: headers(this.#options.apiKey),
        body,
        signal: attempt,
      })
      if (!response.ok) throw httpError(site, response.status, await response.text(), response.headers)
      return { bytes: await readBody(response, site), mediaType: response.headers.get('content-type') ?? '' }
    })
  }
}

/**
 * Chutes' Whisper as the reference's `/api/transcribe` calls it:
 * `POST <base>/transcribe` with `{audio_b64}`, answered with a list of
 * segments `[{text, ...}]`, whose texts are joined.
 */
export class ChutesTranscriptionProvider implements TranscriptionProvider {
  readonly provider = 'chutes'
  readonly model: string
  readonly #options: ChutesMediaOptions

  constructor(options: ChutesMediaOptions) {
    this.model = options.model
    this.#options = options
  }

  transcribe(request: TranscriptionRequest, signal: AbortSignal): Promise<string> {
    const site: MediaSite = { kind: 'transcription', provider: this.provider, model: this.model }
    const body = JSON.stringify({ audio_b64: Buffer.from(request.bytes).toString('base64') })
    return withMediaRetries(site, this.#options.retry, signal, async (attempt) => {
      const response = await fetch(endpoint(this.#options.baseUrl, '/transcribe'), {
        method: 'POST',
        headers: headers(this.#options.apiKey),
        body,
        signal: attempt,
      })
      const text = await response.text()
      if (!response.ok) throw httpError(site, response.status, text, response.headers)
      return segmentsText(text, site)
    })
  }
}

/** `[{text: ' Hello'}, {text: ' world.'}]` → `Hello world.`; anything else is `MEDIA_INVALID_OUTPUT`. */
function segmentsText(body: string, site: MediaSite): string {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    parsed = undefined
  }
  const segments = Array.isArray(parsed) ? parsed : undefined
  if (segments === undefined || !segments.every((s) => typeof (s as { text?: unknown })?.text === 'string')) {
    throw new MediaError(
      'MEDIA_INVALID_OUTPUT',
      `The transcription service ${site.provider} (${site.model}) answered something other than a list of segments: ${body.slice(0, 200)}`,
      { site },
    )
  }
  return segments
    .map((segment) => (segment as { text: string }).text.trim())
    .filter((text) => text !== '')
    .join(' ')
}

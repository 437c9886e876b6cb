import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { BerthError } from '../../core/errors.js'
import { createMediaProviders, mediaAvailability } from '../../media/media-config.js'
import { sniffMedia } from '../../media/media-type.js'
import { MAX_TRANSCRIBE_BYTES } from '../../tools/media/audio-transcribe.js'
import type { ServerContext } from '../context.js'

/** Base64 of the largest recording, plus room for a data: prefix and the JSON around it. */
const TRANSCRIBE_BODY_LIMIT = Math.ceil(MAX_TRANSCRIBE_BYTES / 3) * 4 + 64 * 1024
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

const TranscribeBody = z.object({
  audio_b64: z.string().optional().describe('The recording, base64 (a `data:audio/…;base64,` prefix is allowed).'),
})

const MediaKinds = z.object({
  image: z.boolean(),
  speech: z.boolean(),
  transcription: z.boolean(),
  video: z.boolean(),
})

/**
 * `POST /api/transcribe` `{audio_b64}` → `{transcription}`, the reference's
 * voice input route, answered by the configured transcription provider
 * (BERTH_TRANSCRIPTION_*; Chutes Whisper from CHUTES_API_KEY as the reference
 * did). Missing audio, bad base64 or bytes that are not audio are 400/415
 * before any service is called; no provider is 503 `MEDIA_NOT_CONFIGURED`;
 * every error body carries the `error` field the reference frontend reads.
 * `GET /api/media` says which media kinds are configured, so the UI shows the
 * microphone only when transcription works.
 */
export const mediaRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (plugin, { context }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>()
  const media = createMediaProviders(context.config, { logger: context.logger.child({ part: 'media' }) })

  app.get(
    '/api/media',
    { schema: { tags: ['media'], summary: 'Which media providers are configured', response: { 200: MediaKinds } } },
    async () => mediaAvailability(context.config),
  )

  app.post(
    '/api/transcribe',
    {
      bodyLimit: TRANSCRIBE_BODY_LIMIT,
      schema: {
        tags: ['media'],
        summary: 'Transcribe a voice recording (the composer microphone)',
        body: TranscribeBody,
        response: { 200: z.object({ transcription: z.string() }) },
      },
    },
    async (request, reply) => {
      const bytes = decodeAudio(request.body.audio_b64)
      const provider = media.transcription
      if (provider === undefined) {
        throw new BerthError(
          'MEDIA_NOT_CONFIGURED',
          'No transcription provider is configured: set CHUTES_API_KEY or OPENAI_API_KEY, or BERTH_TRANSCRIPTION_API_KEY ' +
            'and BERTH_TRANSCRIPTION_BASE_URL.',
        )
      }
      const sniffed = sniffMedia(bytes)
      if (sniffed === undefined || sniffed.class === 'image') {
        throw new BerthError(
          'UNSUPPORTED_MEDIA_TYPE',
          'The recording is not audio: send WebM, Ogg, MP3, WAV, FLAC or MP4 audio as base64.',
        )
      }
      const signal = closedSignal(reply.raw)
      const transcription = await provider.transcribe({ bytes, fileName: `recording.${sniffed.extension}` }, signal)
      return { transcription }
    },
  )
}

/** The recording's bytes from `audio_b64`: 400 when it is missing, empty or not base64. */
function decodeAudio(audioB64: string | undefined): Buffer {
  const text = (audioB64 ?? '').replace(/^data:[^,]*;base64,/i, '').replace(/\s+/g, '')
  if (text === '') throw new BerthError('INVALID_REQUEST', 'Audio data is required (audio_b64).')
  if (text.length % 4 === 1 || !BASE64.test(text)) {
    throw new BerthError('INVALID_REQUEST', 'audio_b64 is not valid base64.')
  }
  return Buffer.from(text, 'base64')
}

/** Aborts when the client goes away before the answer, so a provider call stops with it. */
function closedSignal(raw: NodeJS.EventEmitter): AbortSignal {
  const controller = new AbortController()
  raw.once('close', () => controller.abort())
  return controller.signal
}

import type { BerthConfig } from '../config/config.js'
import { SETTINGS } from '../config/settings.js'
import type { Logger } from '../logging/logger.js'
import { ChutesImageProvider, ChutesTranscriptionProvider } from './chutes-media.js'
import {
  OpenAiImageProvider,
  OpenAiSpeechProvider,
  OpenAiTranscriptionProvider,
  OpenAiVideoProvider,
} from './openai-media.js'
import type { MediaRetryPolicy } from './retry.js'
import type { MediaProviders } from './types.js'

/** The settings media providers read; `BerthConfig` satisfies it. */
export type MediaConfig = Pick<
  BerthConfig,
  | 'chutesApiKey'
  | 'chutesBaseUrl'
  | 'openaiApiKey'
  | 'openaiBaseUrl'
  | 'llmMaxRetries'
  | 'llmRetryDelay'
  | 'mediaTimeout'
  | 'videoTimeout'
  | 'imageProvider'
  | 'imageApiKey'
  | 'imageBaseUrl'
  | 'imageModel'
  | 'speechProvider'
  | 'speechApiKey'
  | 'speechBaseUrl'
  | 'speechModel'
  | 'transcriptionProvider'
  | 'transcriptionApiKey'
  | 'transcriptionBaseUrl'
  | 'transcriptionModel'
  | 'videoProvider'
  | 'videoApiKey'
  | 'videoBaseUrl'
  | 'videoModel'
>

/**
 * A partial media config completed with the settings table's defaults
 * (toolset tests pass only what they change).
 *
 * @example withMediaDefaults({ chutesApiKey: 'k' }).imageProvider // 'auto'
 */
export function withMediaDefaults(config: Partial<MediaConfig>): MediaConfig {
  const names = Object.keys(MEDIA_DEFAULTS) as (keyof MediaConfig)[]
  const full: Record<string, unknown> = { ...MEDIA_DEFAULTS }
  for (const name of names) if (config[name] !== undefined) full[name] = config[name]
  return full as MediaConfig
}

const MEDIA_DEFAULTS: MediaConfig = {
  chutesApiKey: undefined,
  chutesBaseUrl: undefined,
  openaiApiKey: undefined,
  openaiBaseUrl: undefined,
  llmMaxRetries: SETTINGS.llmMaxRetries.default,
  llmRetryDelay: SETTINGS.llmRetryDelay.default,
  mediaTimeout: SETTINGS.mediaTimeout.default,
  videoTimeout: SETTINGS.videoTimeout.default,
  imageProvider: SETTINGS.imageProvider.default,
  imageApiKey: undefined,
  imageBaseUrl: undefined,
  imageModel: undefined,
  speechProvider: SETTINGS.speechProvider.default,
  speechApiKey: undefined,
  speechBaseUrl: undefined,
  speechModel: undefined,
  transcriptionProvider: SETTINGS.transcriptionProvider.default,
  transcriptionApiKey: undefined,
  transcriptionBaseUrl: undefined,
  transcriptionModel: undefined,
  videoProvider: SETTINGS.videoProvider.default,
  videoApiKey: undefined,
  videoBaseUrl: undefined,
  videoModel: undefined,
}

export type MediaKind = 'image' | 'speech' | 'transcription' | 'video'
type Protocol = 'openai' | 'chutes'

/** One kind's service, once settled: which wire protocol, where, with which key and model. */
export interface MediaEndpoint {
  protocol: Protocol
  apiKey: string | undefined
  baseUrl: string
  model: string
}

const OPENAI_BASE = 'https://api.openai.com/v1'
/** The reference's Chutes endpoints: one host per model. */
const CHUTES_BASES: Partial<Record<MediaKind, string>> = {
  image: 'https://chutes-flux-1-schnell.chutes.ai',
  transcription: 'https://chutes-whisper-large-v3.chutes.ai',
}
const OPENAI_MODELS: Record<MediaKind, string> = {
  image: 'gpt-image-1',
  speech: 'gpt-4o-mini-tts',
  transcription: 'gpt-4o-transcribe',
  video: 'sora-2',
}
const CHUTES_MODELS: Partial<Record<MediaKind, string>> = {
  image: 'FLUX.1-schnell',
  transcription: 'whisper-large-v3',
}
/** Which LLM keys may serve a kind in `auto`, in order (the reference: Chutes draws, OpenAI speaks). */
const AUTO_ORDER: Record<MediaKind, readonly Protocol[]> = {
  image: ['chutes', 'openai'],
  speech: ['openai'],
  transcription: ['openai', 'chutes'],
  video: ['openai'],
}

function kindSettings(config: MediaConfig, kind: MediaKind) {
  return {
    image: {
      provider: config.imageProvider,
      apiKey: config.imageApiKey,
      baseUrl: config.imageBaseUrl,
      model: config.imageModel,
    },
    speech: {
      provider: config.speechProvider,
      apiKey: config.speechApiKey,
      baseUrl: config.speechBaseUrl,
      model: config.speechModel,
    },
    transcription: {
      provider: config.transcriptionProvider,
      apiKey: config.transcriptionApiKey,
      baseUrl: config.transcriptionBaseUrl,
      model: config.transcriptionModel,
    },
    video: {
      provider: config.videoProvider,
      apiKey: config.videoApiKey,
      baseUrl: config.videoBaseUrl,
      model: config.videoModel,
    },
  }[kind]
}

/**
 * Where one kind of media is made, or null when it is not configured. A
 * kind's own key or base URL wins (OpenAI-compatible unless its provider says
 * `chutes`); otherwise, in `auto`, the LLM keys serve as the reference used
 * them, each only while its own base URL is unset (a key for a proxy or a
 * local server is not sent to another host); a provider named explicitly
 * takes its LLM key wherever that key's LLM base URL points. Configured means
 * a key, or an explicit base URL (a keyless compatible server).
 *
 * @example
 *   mediaEndpoint({ ...config, chutesApiKey: 'k' }, 'image') // { protocol: 'chutes', baseUrl: 'https://chutes-flux-1-schnell.chutes.ai', ... }
 */
export function mediaEndpoint(partial: Partial<MediaConfig>, kind: MediaKind): MediaEndpoint | null {
  const config = withMediaDefaults(partial)
  const own = kindSettings(config, kind)
  if (own.provider === 'off') return null
  const protocols = own.provider === 'auto' ? AUTO_ORDER[kind] : [own.provider]
  const defaultBase = (protocol: Protocol) => (protocol === 'openai' ? OPENAI_BASE : CHUTES_BASES[kind])
  const modelOf = (protocol: Protocol) =>
    own.model ?? (protocol === 'openai' ? OPENAI_MODELS[kind] : (CHUTES_MODELS[kind] ?? OPENAI_MODELS[kind]))
  if (own.apiKey !== undefined || own.baseUrl !== undefined) {
    const protocol: Protocol = own.provider === 'chutes' ? 'chutes' : 'openai'
    const baseUrl = own.baseUrl ?? defaultBase(protocol)
    if (baseUrl === undefined) return null
    return { protocol, apiKey: own.apiKey, baseUrl, model: modelOf(protocol) }
  }
  const explicit = own.provider !== 'auto'
  for (const protocol of protocols) {
    const llmKey = protocol === 'openai' ? config.openaiApiKey : config.chutesApiKey
    const llmBase = protocol === 'openai' ? config.openaiBaseUrl : config.chutesBaseUrl
    const baseUrl = defaultBase(protocol)
    if (llmKey === undefined || baseUrl === undefined) continue
    if (!explicit && llmBase !== undefined) continue
    return { protocol, apiKey: llmKey, baseUrl, model: modelOf(protocol) }
  }
  return null
}

/** Which kinds are configured: the answer of `GET /api/media`. */
export function mediaAvailability(config: Partial<MediaConfig>): Record<MediaKind, boolean> {
  return {
    image: mediaEndpoint(config, 'image') !== null,
    speech: mediaEndpoint(config, 'speech') !== null,
    transcription: mediaEndpoint(config, 'transcription') !== null,
    video: mediaEndpoint(config, 'video') !== null,
  }
}

/** The keys media calls may use, so the shell never sees them (tools/toolset.ts `configuredSecrets`). */
export function mediaSecrets(config: Partial<MediaConfig>): (string | undefined)[] {
  return [config.imageApiKey, config.speechApiKey, config.transcriptionApiKey, config.videoApiKey]
}

/**
 * The configured media providers, each behind berth's contract
 * (types.ts), with the LLM layer's retry settings and the media budgets;
 * retries are logged as LLM retries are. `videoPollMs` is for tests; a real
 * job is asked about every 5 s.
 *
 * @example
 *   const media = createMediaProviders(config)
 *   if (media.image) await media.image.generate({ prompt: 'a lighthouse' }, signal)
 */
export function createMediaProviders(
  partial: Partial<MediaConfig>,
  options: { videoPollMs?: number; logger?: Logger } = {},
): MediaProviders {
  const config = withMediaDefaults(partial)
  const { logger } = options
  const retry: MediaRetryPolicy = {
    maxRetries: config.llmMaxRetries,
    baseDelayMs: config.llmRetryDelay,
    budgetMs: config.mediaTimeout * 1000,
    ...(logger === undefined
      ? {}
      : {
          onRetry: ({ site, error, attempt, delayMs }) =>
            logger.warn(
              { ...site, status: error.httpStatus, code: error.code, delayMs, attempt },
              `media request failed, retrying: ${error.message}`,
            ),
        }),
  }
  const providers: MediaProviders = {}
  const image = mediaEndpoint(config, 'image')
  if (image !== null) {
    providers.image =
      image.protocol === 'chutes'
        ? new ChutesImageProvider({ ...image, retry })
        : new OpenAiImageProvider({ ...image, retry })
  }
  const speech = mediaEndpoint(config, 'speech')
  if (speech !== null) providers.speech = new OpenAiSpeechProvider({ ...speech, retry })
  const transcription = mediaEndpoint(config, 'transcription')
  if (transcription !== null) {
    providers.transcription =
      transcription.protocol === 'chutes'
        ? new ChutesTranscriptionProvider({ ...transcription, retry })
        : new OpenAiTranscriptionProvider({ ...transcription, retry })
  }
  const video = mediaEndpoint(config, 'video')
  if (video !== null) {
    providers.video = new OpenAiVideoProvider(
      { ...video, retry },
      { pollMs: options.videoPollMs ?? 5000, budgetMs: config.videoTimeout * 1000 },
    )
  }
  return providers
}

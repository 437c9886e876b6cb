/**
 * berth's own contracts with media services, as src/llm/types.ts is with
 * language models: each provider turns one typed request into bytes (or
 * text) and throws a `MediaError` (media-error.ts) on failure. Tools and
 * routes never import an SDK.
 */

/** What a generating provider answers: the file's bytes and the media type the service claimed. */
export interface MediaBytes {
  bytes: Uint8Array
  /** As the service declared it (Content-Type, or the format asked for); the bytes are checked separately. */
  mediaType: string
}

export interface ImageRequest {
  prompt: string
  negativePrompt?: string
  guidanceScale?: number
  width?: number
  height?: number
  numInferenceSteps?: number
}

export interface ImageProvider {
  /** `openai` or `chutes`, for messages and logs. */
  readonly provider: string
  readonly model: string
  generate(request: ImageRequest, signal: AbortSignal): Promise<MediaBytes>
}

/** The audio formats a speech provider is asked for (OpenAI's `response_format` names). */
export type SpeechFormat = 'mp3' | 'wav' | 'opus' | 'flac'

export interface SpeechRequest {
  text: string
  voice: string
  format: SpeechFormat
  /** How to speak (a persona, a tone); providers without it ignore it. */
  instructions?: string
}

export interface SpeechProvider {
  readonly provider: string
  readonly model: string
  speak(request: SpeechRequest, signal: AbortSignal): Promise<MediaBytes>
}

export interface TranscriptionRequest {
  bytes: Uint8Array
  /** A name with the right extension: services tell the format by it (`recording.webm`). */
  fileName: string
}

export interface TranscriptionProvider {
  readonly provider: string
  readonly model: string
  transcribe(request: TranscriptionRequest, signal: AbortSignal): Promise<string>
}

export interface VideoRequest {
  prompt: string
}

export interface VideoProvider {
  readonly provider: string
  readonly model: string
  generate(request: VideoRequest, signal: AbortSignal): Promise<MediaBytes>
}

/** The providers configured in this berth; a missing one means its tools are not offered. */
export interface MediaProviders {
  image?: ImageProvider
  speech?: SpeechProvider
  transcription?: TranscriptionProvider
  video?: VideoProvider
}

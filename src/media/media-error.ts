import * as OpenAi from 'openai'
import { BerthError } from '../core/errors.js'
import { isRetryableStatus, retryAfter } from '../llm/sdk-errors.js'

export type MediaErrorCode =
  | 'MEDIA_NOT_CONFIGURED'
  | 'MEDIA_REQUEST_FAILED'
  | 'MEDIA_REFUSED'
  | 'MEDIA_TIMEOUT'
  | 'MEDIA_INVALID_OUTPUT'
  | 'TOOL_ABORTED'

/** Which call failed: `image service openai (gpt-image-1)`, for messages. */
export interface MediaSite {
  /** `image`, `speech`, `transcription` or `video`. */
  kind: string
  provider: string
  model: string
}

/**
 * A failed media call, saying which service failed and how. The retry helper
 * (retry.ts) reads `retryable` and `retryAfterMs`, as the LLM layer's retries
 * read them on `LlmError`.
 */
export class MediaError extends BerthError {
  override readonly code: MediaErrorCode
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined
  readonly httpStatus: number | undefined

  constructor(
    code: MediaErrorCode,
    message: string,
    options: {
      retryable?: boolean
      retryAfterMs?: number
      httpStatus?: number
      cause?: unknown
      site?: MediaSite
    } = {},
  ) {
    super(code, message, {
      cause: options.cause,
      ...(options.site === undefined
        ? {}
        : {
            details: {
              ...options.site,
              ...(options.httpStatus === undefined ? {} : { httpStatus: options.httpStatus }),
            },
          }),
    })
    this.name = 'MediaError'
    this.code = code
    this.retryable = options.retryable ?? false
    this.retryAfterMs = options.retryAfterMs
    this.httpStatus = options.httpStatus
  }
}

export function describeSite(site: MediaSite): string {
  return `the ${site.kind} service ${site.provider} (${site.model})`
}

// What OpenAI (and compatible servers) say when a prompt breaks their content policy.
const REFUSAL = /content[\s_-]?policy|safety system|moderation|prohibited|not allowed by our safety/i

/**
 * A failed HTTP answer as a `MediaError`: 408, 409, 425, 429 and 5xx may pass
 * on a later try (the LLM layer's rule, `isRetryableStatus`); a 400 that
 * names the content policy is a refusal, never retried; other 4xx are final.
 *
 * @example
 *   if (!response.ok) throw httpError(site, response.status, await response.text(), response.headers)
 */
export function httpError(site: MediaSite, status: number, body: string, headers?: Headers): MediaError {
  const detail = errorText(body)
  const base = { httpStatus: status, site }
  if ((status === 400 || status === 403 || status === 422) && REFUSAL.test(body)) {
    return new MediaError(
      'MEDIA_REFUSED',
      `${capitalize(describeSite(site))} refused the request (HTTP ${status}): ${detail}. ` +
        'Rephrase the prompt so it does not break the service’s content policy, or tell the user.',
      base,
    )
  }
  const retryAfterMs = retryAfter(headers)
  return new MediaError(
    'MEDIA_REQUEST_FAILED',
    `${capitalize(describeSite(site))} answered HTTP ${status}: ${detail}`,
    {
      ...base,
      retryable: isRetryableStatus(status),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    },
  )
}

/**
 * Whatever a media call threw (the openai SDK's errors, fetch's) as a
 * `MediaError`. `caller` tells a cancellation apart from a failure.
 */
export function toMediaError(error: unknown, site: MediaSite, caller: AbortSignal): MediaError {
  if (error instanceof MediaError) return error
  if (caller.aborted || error instanceof OpenAi.APIUserAbortError) {
    return new MediaError('TOOL_ABORTED', `The request to ${describeSite(site)} was cancelled.`, { cause: error, site })
  }
  if (error instanceof OpenAi.APIError && typeof error.status === 'number') {
    return httpError(site, error.status, JSON.stringify(error.error ?? error.message), error.headers)
  }
  const message = error instanceof Error ? socketReason(error) : String(error)
  return new MediaError('MEDIA_REQUEST_FAILED', `The request to ${describeSite(site)} failed: ${message}`, {
    retryable: true,
    cause: error,
    site,
  })
}

/** The message of a JSON error body (`{error: {message}}`, `{detail}`, `{message}`), else the text, short. */
function errorText(body: string): string {
  let text = body.trim()
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>
    const nested = parsed.error as Record<string, unknown> | string | undefined
    const found =
      (typeof nested === 'object' && nested !== null ? nested.message : nested) ?? parsed.detail ?? parsed.message
    if (typeof found === 'string' && found !== '') text = found
  } catch {}
  if (text === '') return '(no message)'
  return text.length > 500 ? `${text.slice(0, 500)}…` : text
}

function socketReason(error: Error): string {
  let current: unknown = error.cause
  let text = error.message
  while (current instanceof Error) {
    text = `${text}: ${(current as NodeJS.ErrnoException).code ?? current.message}`
    current = current.cause
  }
  return text
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

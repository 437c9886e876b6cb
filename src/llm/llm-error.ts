import { BerthError } from '../core/errors.js'

export type LlmErrorCode = 'LLM_NOT_CONFIGURED' | 'LLM_REQUEST_FAILED' | 'LLM_ABORTED' | 'LLM_TIMEOUT'

/** The same codes in the words of the `LlmRequest.signal` contract (`kind === 'aborted'`). */
export type LlmErrorKind = 'not-configured' | 'request-failed' | 'aborted' | 'timeout'

const KINDS: Record<LlmErrorCode, LlmErrorKind> = {
  LLM_NOT_CONFIGURED: 'not-configured',
  LLM_REQUEST_FAILED: 'request-failed',
  LLM_ABORTED: 'aborted',
  LLM_TIMEOUT: 'timeout',
}

export interface LlmErrorOptions {
  provider: string
  model: string
  /** The provider's HTTP status, when it answered. */
  httpStatus?: number
  /** Whether trying the same model again may succeed (429, 5xx, connection errors). */
  retryable?: boolean
  /** How long the provider asked us to wait (Retry-After), in ms. */
  retryAfterMs?: number
  cause?: unknown
  details?: Record<string, unknown>
}

/**
 * A failure of an LLM call, saying which provider and model failed and how.
 * The retry wrapper reads `retryable` and `retryAfterMs`; the agent stores the
 * message in its `error` event, so it names the provider, model and status.
 *
 * @example
 *   throw new LlmError('LLM_REQUEST_FAILED', 'chutes (deepseek-ai/DeepSeek-V3-0324) answered HTTP 500', {
 *     provider: 'chutes', model: 'deepseek-ai/DeepSeek-V3-0324', httpStatus: 500, retryable: true,
 *   })
 */
export class LlmError extends BerthError {
  override readonly code: LlmErrorCode
  readonly kind: LlmErrorKind
  readonly provider: string
  readonly model: string
  readonly httpStatus: number | undefined
  readonly retryable: boolean
  readonly retryAfterMs: number | undefined

  constructor(code: LlmErrorCode, message: string, options: LlmErrorOptions) {
    super(code, message, {
      cause: options.cause,
      details: {
        provider: options.provider,
        model: options.model,
        ...(options.httpStatus === undefined ? {} : { httpStatus: options.httpStatus }),
        ...options.details,
      },
    })
    this.name = 'LlmError'
    this.code = code
    this.kind = KINDS[code]
    this.provider = options.provider
    this.model = options.model
    this.httpStatus = options.httpStatus
    this.retryable = options.retryable ?? false
    this.retryAfterMs = options.retryAfterMs
  }
}

export function isLlmError(value: unknown, code?: LlmErrorCode): value is LlmError {
  return value instanceof LlmError && (code === undefined || value.code === code)
}

/**
 * A provider used without its key: says exactly which variable to set.
 *
 * @example notConfigured('chutes', 'deepseek-ai/DeepSeek-V3-0324', 'Set CHUTES_API_KEY')
 */
export function notConfigured(provider: string, model: string, hint?: string): LlmError {
  const advice = hint ?? `Set the API key for ${provider}`
  return new LlmError('LLM_NOT_CONFIGURED', `${advice} to use ${provider} (${model}): no API key is set.`, {
    provider,
    model,
  })
}

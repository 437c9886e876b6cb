import * as Anthropic from '@anthropic-ai/sdk'
import * as OpenAi from 'openai'
import { LlmError } from './llm-error.js'

export interface CallSite {
  provider: string
  model: string
  baseUrl: string
}

// 408 timeout, 409 conflict, 425 too early, 429 rate limit and every 5xx may pass on a second try;
// other 4xx (bad request, auth, unknown model) will not.
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500
}

/**
 * Turn whatever an SDK (or fetch) threw into an `LlmError` naming the provider,
 * model and HTTP status. `signal` tells a cancellation apart from a failure:
 * the SDKs report both as errors.
 *
 * @example
 *   catch (error) { throw toLlmError(error, { provider: 'chutes', model, baseUrl }, request.signal) }
 */
export function toLlmError(error: unknown, site: CallSite, signal: AbortSignal): LlmError {
  if (error instanceof LlmError) return error
  const who = `${site.provider} (${site.model})`
  const base = { provider: site.provider, model: site.model, cause: error }
  if (signal.aborted || error instanceof OpenAi.APIUserAbortError || error instanceof Anthropic.APIUserAbortError) {
    return new LlmError('LLM_ABORTED', `The request to ${who} was cancelled`, base)
  }
  if (error instanceof OpenAi.APIConnectionError || error instanceof Anthropic.APIConnectionError) {
    const reason = causeText(error)
    return new LlmError('LLM_REQUEST_FAILED', `Could not reach ${who} at ${site.baseUrl}: ${reason}`, {
      ...base,
      retryable: true,
    })
  }
  if (error instanceof OpenAi.APIError || error instanceof Anthropic.APIError) {
    const status = typeof error.status === 'number' ? error.status : undefined
    const detail = apiMessage(error)
    if (status === undefined) {
      // An error event in the middle of a stream (Chutes sends these when its backends are exhausted).
      return new LlmError('LLM_REQUEST_FAILED', `${who} sent an error in its stream: ${detail}`, {
        ...base,
        retryable: true,
      })
    }
    const retryAfterMs = retryAfter(error.headers)
    return new LlmError('LLM_REQUEST_FAILED', `${who} answered HTTP ${status}: ${detail}`, {
      ...base,
      httpStatus: status,
      retryable: isRetryableStatus(status),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    })
  }
  // fetch's own failures ("terminated" when the connection drops mid-stream) and garbled streams.
  const message = error instanceof Error ? error.message : String(error)
  return new LlmError('LLM_REQUEST_FAILED', `The request to ${who} failed: ${message}`, { ...base, retryable: true })
}

function apiMessage(error: { message: string; error?: unknown }): string {
  const body = error.error as { message?: unknown; error?: { message?: unknown } } | undefined
  const text = body?.error?.message ?? body?.message
  if (typeof text === 'string' && text.length > 0) return text
  // The SDK's own message starts with the status ("500 Internal error"); the caller already says it.
  return error.message.replace(/^\d{3}\s+/, '')
}

function causeText(error: Error): string {
  let current: unknown = error.cause
  let text = error.message
  // Walk down to the socket-level reason (ECONNREFUSED, ECONNRESET).
  while (current instanceof Error) {
    text = (current as NodeJS.ErrnoException).code ?? current.message
    current = current.cause
  }
  return text
}

/** Retry-After as ms: `retry-after-ms`, or `retry-after` in seconds (fractions allowed) or as an HTTP date. */
export function retryAfter(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '')
  if (Number.isFinite(ms) && ms >= 0) return ms
  const raw = headers.get('retry-after')
  if (raw === null) return undefined
  const seconds = Number(raw.trim())
  if (raw.trim() !== '' && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(raw)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

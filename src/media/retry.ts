import { setTimeout as sleep } from 'node:timers/promises'
import { describeSite, MediaError, type MediaSite, toMediaError } from './media-error.js'

/** The LLM layer's retry settings (BERTH_LLM_MAX_RETRIES, BERTH_LLM_RETRY_DELAY_MS) and a time budget. */
export interface MediaRetryPolicy {
  /** Retries on 429, 5xx and connection errors. */
  maxRetries: number
  /** Base of the exponential backoff (full jitter), in ms. */
  baseDelayMs: number
  /** Cap of one backoff delay; default 30 s, as for LLM calls. */
  maxDelayMs?: number
  /** The whole call, retries included, in ms. */
  budgetMs: number
  /** Source of jitter, for tests. */
  random?: () => number
  /** Told before each retry (for logs). */
  onRetry?: (event: { site: MediaSite; error: MediaError; attempt: number; delayMs: number }) => void
}

/**
 * Run one media request with the retries LLM calls get
 * (src/llm/resilient-provider.ts): exponential backoff with full jitter,
 * Retry-After honoured, all within one time budget. `call` gets a signal
 * that ends with the caller's or the budget's; a refusal or another final
 * error is thrown at once, a cancellation as `TOOL_ABORTED`, the budget
 * running out as `MEDIA_TIMEOUT`.
 *
 * @example
 *   const bytes = await withMediaRetries(site, policy, signal, (s) => client.images.generate(body, { signal: s }))
 */
export async function withMediaRetries<T>(
  site: MediaSite,
  policy: MediaRetryPolicy,
  caller: AbortSignal,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + policy.budgetMs
  const budget = AbortSignal.timeout(policy.budgetMs)
  const signal = AbortSignal.any([caller, budget])
  let last: MediaError | undefined
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(signal)
    } catch (raw) {
      if (!caller.aborted && budget.aborted) throw timeout(site, policy, last)
      const error = toMediaError(raw, site, caller)
      if (!error.retryable || attempt >= policy.maxRetries) throw error
      last = error
      const delayMs = error.retryAfterMs ?? backoff(policy, attempt)
      if (delayMs >= deadline - Date.now()) throw error.retryAfterMs === undefined ? timeout(site, policy, last) : error
      policy.onRetry?.({ site, error, attempt, delayMs })
      try {
        await sleep(delayMs, undefined, { signal })
      } catch {
        if (caller.aborted) throw toMediaError(raw, site, caller)
        throw timeout(site, policy, last)
      }
    }
  }
}

function backoff(policy: MediaRetryPolicy, attempt: number): number {
  const { baseDelayMs, maxDelayMs = 30_000, random = Math.random } = policy
  return Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt))
}

function timeout(site: MediaSite, policy: MediaRetryPolicy, last: MediaError | undefined): MediaError {
  const seconds = Math.round(policy.budgetMs / 100) / 10
  return new MediaError(
    'MEDIA_TIMEOUT',
    `No answer from ${describeSite(site)} within ${seconds} s` +
      (last === undefined ? '' : `; last error: ${last.message}`),
    { site, ...(last?.httpStatus === undefined ? {} : { httpStatus: last.httpStatus }) },
  )
}

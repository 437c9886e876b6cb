import { setTimeout as sleep } from 'node:timers/promises'
import { LlmError } from './llm-error.js'
import { toLlmError } from './sdk-errors.js'
import type { LlmProvider, LlmRequest, LlmStreamPart } from './types.js'

export interface ResilienceOptions {
  /** Retries per model for retryable errors (429, 5xx, connection); then the next model. */
  maxRetries: number
  /** Base of the exponential backoff, in ms. */
  baseDelayMs: number
  /** Cap of one backoff delay (not of Retry-After, which the budget bounds). Default 30 s. */
  maxDelayMs?: number
  /** The whole call, retries, fallbacks and streaming included, in ms. */
  budgetMs: number
  /** Source of jitter, for tests. */
  random?: () => number
  /** Told before each retry or switch to the next model (for logs). */
  onRetry?: (event: RetryEvent) => void
}

export interface RetryEvent {
  provider: string
  model: string
  error: LlmError
  /** `retry` the same model after `delayMs`, or `fallback` to the next model. */
  action: 'retry' | 'fallback'
  delayMs: number
  attempt: number
}

/**
 * Retries with exponential backoff and full jitter (honouring Retry-After),
 * then an ordered list of fallback models, all within one time budget. A
 * retry happens only before any part reached the caller, so streamed text is
 * never repeated. Aborting the request's signal ends everything at once with
 * `LLM_ABORTED`; running out of budget ends it with `LLM_TIMEOUT`.
 *
 * @example
 *   const llm = new ResilientProvider([primary, fallback], { maxRetries: 3, baseDelayMs: 1000, budgetMs: 300_000 })
 */
export class ResilientProvider implements LlmProvider {
  readonly #candidates: readonly LlmProvider[]
  readonly #options: ResilienceOptions

  constructor(candidates: readonly LlmProvider[], options: ResilienceOptions) {
    if (candidates.length === 0) throw new Error('ResilientProvider needs at least one model')
    this.#candidates = candidates
    this.#options = options
  }

  get provider(): string {
    return (this.#candidates[0] as LlmProvider).provider
  }

  get model(): string {
    return (this.#candidates[0] as LlmProvider).model
  }

  /** The models tried in order: the primary first. */
  get candidates(): readonly LlmProvider[] {
    return this.#candidates
  }

  async *stream(request: LlmRequest): AsyncGenerator<LlmStreamPart> {
    const { budgetMs } = this.#options
    const deadline = Date.now() + budgetMs
    const budget = new AbortController()
    const timer = setTimeout(() => budget.abort(new Error('LLM time budget exhausted')), budgetMs)
    const signal = AbortSignal.any([request.signal, budget.signal])
    const failures: LlmError[] = []
    const fail = (error: unknown, candidate: LlmProvider): LlmError => {
      if (request.signal.aborted) return toLlmError(error, siteOf(candidate), request.signal)
      if (budget.signal.aborted) return this.#timeout(candidate, failures)
      return toLlmError(error, siteOf(candidate), signal)
    }
    try {
      for (const [index, candidate] of this.#candidates.entries()) {
        for (let attempt = 0; ; attempt++) {
          let yielded = false
          try {
            for await (const part of candidate.stream({ ...request, signal })) {
              yielded = true
              yield part
            }
            return
          } catch (raw) {
            const error = fail(raw, candidate)
            if (error.code === 'LLM_ABORTED' || error.code === 'LLM_TIMEOUT' || yielded) throw error
            failures.push(error)
            const delayMs = error.retryAfterMs ?? this.#backoff(attempt)
            const mayRetry = error.retryable && attempt < this.#options.maxRetries
            const canRetry = mayRetry && delayMs < deadline - Date.now()
            const isLast = index === this.#candidates.length - 1
            // Our own backoff outlasting the budget is a timeout; a Retry-After beyond it is the provider's answer.
            const outOfTime = mayRetry && error.retryAfterMs === undefined
            if (!canRetry && isLast) throw outOfTime ? this.#timeout(candidate, failures) : summarize(failures)
            this.#options.onRetry?.({
              provider: candidate.provider,
              model: candidate.model,
              error,
              action: canRetry ? 'retry' : 'fallback',
              delayMs: canRetry ? delayMs : 0,
              attempt,
            })
            if (!canRetry) break
            try {
              await sleep(delayMs, undefined, { signal })
            } catch (sleepError) {
              throw fail(sleepError, candidate)
            }
          }
        }
      }
      throw summarize(failures)
    } finally {
      clearTimeout(timer)
    }
  }

  #backoff(attempt: number): number {
    const { baseDelayMs, maxDelayMs = 30_000, random = Math.random } = this.#options
    return Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt))
  }

  #timeout(candidate: LlmProvider, failures: readonly LlmError[]): LlmError {
    const last = failures.at(-1)
    const seconds = Math.round(this.#options.budgetMs / 100) / 10
    const message =
      `No answer from ${candidate.provider} (${candidate.model}) within the LLM time budget of ${seconds} s` +
      (last ? `; last error: ${last.message}` : '')
    return new LlmError('LLM_TIMEOUT', message, {
      provider: candidate.provider,
      model: candidate.model,
      ...(last?.httpStatus === undefined ? {} : { httpStatus: last.httpStatus }),
    })
  }
}

function siteOf(candidate: LlmProvider): { provider: string; model: string; baseUrl: string } {
  return { provider: candidate.provider, model: candidate.model, baseUrl: '' }
}

/** One model: its last error. Several: one error naming each model's last failure. */
function summarize(failures: readonly LlmError[]): LlmError {
  const lastPerModel = new Map<string, LlmError>()
  for (const failure of failures) lastPerModel.set(`${failure.provider}\u0000${failure.model}`, failure)
  const errors = [...lastPerModel.values()]
  const only = errors.length === 1 ? errors[0] : undefined
  if (only) return only
  const first = errors[0] as LlmError
  const code = errors.every((error) => error.code === 'LLM_NOT_CONFIGURED')
    ? 'LLM_NOT_CONFIGURED'
    : 'LLM_REQUEST_FAILED'
  return new LlmError(code, `Every model failed: ${errors.map((error) => error.message).join('; then ')}`, {
    provider: first.provider,
    model: first.model,
    ...(first.httpStatus === undefined ? {} : { httpStatus: first.httpStatus }),
    cause: errors.at(-1),
    details: { failures: errors.map((error) => ({ ...error.toJSON(), provider: error.provider, model: error.model })) },
  })
}

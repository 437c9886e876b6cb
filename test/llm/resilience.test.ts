import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createLlm } from '../../src/llm/create-llm.js'
import { isLlmError, type LlmError } from '../../src/llm/llm-error.js'
import type { LlmStreamPart } from '../../src/llm/types.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { chutesAt, collect, finishOf, llmRequest, streamError, textOf } from './llm-test-kit.js'

let llm: ScriptedLlm

beforeEach(async () => {
  llm = await startScriptedOpenAi()
})
afterEach(async () => {
  await llm.close()
})

const elapsedSince = (start: number): number => performance.now() - start

describe('retries, fallbacks, budget and cancellation', () => {
  it('retries a 429 after the Retry-After the server asked for, then succeeds', async () => {
    llm.enqueue({ status: 429, retryAfter: 0.3 }, { text: 'finally' })
    const start = performance.now()
    const parts = await collect(createLlm(chutesAt(llm.url)).stream(llmRequest()))
    expect(textOf(parts)).toBe('finally')
    expect(llm.requests).toHaveLength(2)
    expect(elapsedSince(start)).toBeGreaterThanOrEqual(290) // the backoff alone would be ~1 ms
  })

  it('retries 5xx and dropped connections with backoff', async () => {
    llm.enqueue({ status: 502 }, { disconnect: true }, { status: 503 }, { text: 'up again' })
    const parts = await collect(createLlm(chutesAt(llm.url)).stream(llmRequest()))
    expect(textOf(parts)).toBe('up again')
    expect(llm.requests).toHaveLength(4)
  })

  it('names the provider and address it could not reach, after retrying', async () => {
    const gone = await startScriptedOpenAi()
    await gone.close()
    const config = chutesAt(gone.url, { BERTH_LLM_MAX_RETRIES: '1' })
    const error = await streamError(createLlm(config).stream(llmRequest()))
    expect(error).toMatchObject({ code: 'LLM_REQUEST_FAILED', provider: 'chutes', retryable: true })
    expect((error as Error).message).toBe(
      `Could not reach chutes (deepseek-ai/DeepSeek-V3-0324) at ${gone.url}: ECONNREFUSED`,
    )
  })

  it('does not retry a client error such as 400', async () => {
    llm.enqueue({ status: 400, errorMessage: 'bad tool schema' }, { text: 'never reached' })
    const error = await streamError(createLlm(chutesAt(llm.url)).stream(llmRequest()))
    expect(error).toMatchObject({ code: 'LLM_REQUEST_FAILED', httpStatus: 400, retryable: false })
    expect(llm.requests).toHaveLength(1)
  })

  it('ends a 500 on every try with an LlmError naming provider and status, within the budget', async () => {
    llm.setFallback({ status: 500, errorMessage: 'upstream down' })
    const start = performance.now()
    const error = (await streamError(
      createLlm(chutesAt(llm.url, { BERTH_LLM_MAX_RETRIES: '2', BERTH_LLM_TIMEOUT: '5' })).stream(llmRequest()),
    )) as LlmError
    expect(isLlmError(error, 'LLM_REQUEST_FAILED')).toBe(true)
    expect(error.provider).toBe('chutes')
    expect(error.httpStatus).toBe(500)
    expect(error.message).toBe('chutes (deepseek-ai/DeepSeek-V3-0324) answered HTTP 500: upstream down')
    expect(llm.requests).toHaveLength(3)
    expect(elapsedSince(start)).toBeLessThan(5000)
  })

  it('stops retrying when the time budget runs out, with LLM_TIMEOUT', async () => {
    llm.setFallback({ status: 500, delayMs: 60 })
    // Each answer takes 60 ms, so the 400 ms budget runs out while a request is in flight.
    const config = chutesAt(llm.url, { BERTH_LLM_MAX_RETRIES: '20', BERTH_LLM_TIMEOUT: '0.4' })
    const start = performance.now()
    const error = await streamError(createLlm(config).stream(llmRequest()))
    expect(error).toMatchObject({ code: 'LLM_TIMEOUT', provider: 'chutes', httpStatus: 500 })
    expect((error as Error).message).toMatch(/within the LLM time budget of 0.4 s; last error: .*HTTP 500/)
    expect(elapsedSince(start)).toBeLessThan(1000)
    expect(llm.requests.length).toBeGreaterThan(1)
  })

  it('gives up at once when Retry-After is longer than the budget left', async () => {
    llm.enqueue({ status: 429, retryAfter: 60 }, { text: 'too late' })
    const start = performance.now()
    const error = await streamError(createLlm(chutesAt(llm.url, { BERTH_LLM_TIMEOUT: '10' })).stream(llmRequest()))
    expect(error).toMatchObject({ code: 'LLM_REQUEST_FAILED', httpStatus: 429, retryAfterMs: 60_000 })
    expect(elapsedSince(start)).toBeLessThan(1000)
    expect(llm.requests).toHaveLength(1)
  })

  it('falls back to the next model when the first keeps failing', async () => {
    llm.setFallback({ status: 500 })
    llm.enqueue({ model: 'backup-model', text: 'from the backup' })
    const config = chutesAt(llm.url, { BERTH_LLM_MAX_RETRIES: '1', BERTH_FALLBACK_MODELS: 'chutes:backup-model' })
    const parts = await collect(createLlm(config).stream(llmRequest()))
    expect(textOf(parts)).toBe('from the backup')
    expect(finishOf(parts)).toMatchObject({ provider: 'chutes', model: 'backup-model' })
    expect(llm.requests.map((request) => request.model)).toEqual([
      'deepseek-ai/DeepSeek-V3-0324',
      'deepseek-ai/DeepSeek-V3-0324',
      'backup-model',
    ])
  })

  it('names every model when all of them fail', async () => {
    llm.setFallback({ status: 503 })
    const config = chutesAt(llm.url, { BERTH_LLM_MAX_RETRIES: '0', BERTH_FALLBACK_MODELS: 'chutes:b, chutes:c' })
    const error = (await streamError(createLlm(config).stream(llmRequest()))) as LlmError
    expect(error.code).toBe('LLM_REQUEST_FAILED')
    expect(error.message).toMatch(
      /^Every model failed: chutes \(deepseek-ai\/DeepSeek-V3-0324\) answered HTTP 503.*; then chutes \(b\).*; then chutes \(c\)/,
    )
    expect(llm.requests).toHaveLength(3)
  })

  it('never retries after parts reached the caller, so no text is streamed twice', async () => {
    llm.enqueue({ text: 'partial answer', disconnect: true }, { text: 'second try' })
    const seen: LlmStreamPart[] = []
    const error = await streamError(createLlm(chutesAt(llm.url)).stream(llmRequest()), seen)
    expect(textOf(seen)).toBe('partial answer')
    expect(error).toMatchObject({ code: 'LLM_REQUEST_FAILED', provider: 'chutes' })
    expect(llm.requests).toHaveLength(1)
  })

  it('a hang ends only by abort: quickly, with LLM_ABORTED, and the server sees the disconnect', async () => {
    llm.enqueue({ hang: true })
    const controller = new AbortController()
    const stream = createLlm(chutesAt(llm.url)).stream(llmRequest({ signal: controller.signal }))
    const pending = streamError(stream)
    await llm.waitForRequests(1)
    const start = performance.now()
    controller.abort()
    const error = await pending
    expect(elapsedSince(start)).toBeLessThan(500)
    expect(isLlmError(error, 'LLM_ABORTED')).toBe(true)
    expect((error as LlmError).kind).toBe('aborted')
    await llm.waitForAborts(1, 2000)
    expect(llm.abortedRequests).toBe(1)
    expect(llm.requests).toHaveLength(1) // an abort is never retried
  })

  it('an abort in the middle of a streamed answer closes the connection too', async () => {
    llm.enqueue({ text: 'streaming slowly', chunkSize: 2, chunkDelayMs: 30 })
    const controller = new AbortController()
    const seen: LlmStreamPart[] = []
    const pending = streamError(createLlm(chutesAt(llm.url)).stream(llmRequest({ signal: controller.signal })), seen)
    while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    controller.abort()
    expect(await pending).toMatchObject({ code: 'LLM_ABORTED' })
    expect(seen.some((part) => part.type === 'finish')).toBe(false)
    await llm.waitForAborts(1, 2000)
  })

  it('an abort during the backoff wait ends the call at once', async () => {
    llm.setFallback({ status: 503 })
    const config = chutesAt(llm.url, { BERTH_LLM_RETRY_DELAY_MS: '10000', BERTH_LLM_TIMEOUT: '60' })
    const controller = new AbortController()
    const pending = streamError(
      createLlm(config, { resilience: { random: () => 1 } }).stream(llmRequest({ signal: controller.signal })),
    )
    await llm.waitForRequests(1)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const start = performance.now()
    controller.abort()
    expect(await pending).toMatchObject({ code: 'LLM_ABORTED' })
    expect(elapsedSince(start)).toBeLessThan(200)
    expect(llm.requests).toHaveLength(1)
  })
})

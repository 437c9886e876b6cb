import { BerthError } from '../../core/errors.js'

export interface FetchJsonOptions {
  /** Shown in errors, e.g. 'Tavily search'. */
  what: string
  /** The setting to check when the provider refuses the key. */
  keyVariable: string
  signal: AbortSignal
  timeoutMs?: number
  /** Largest response body read, in bytes. */
  maxBytes?: number
}

const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024

/**
 * `fetch` a provider's JSON answer with the run's AbortSignal plus a timeout,
 * a bound on the body size, and errors the model can read
 * (`WEB_REQUEST_FAILED` naming the provider and status).
 *
 * @example
 *   const body = await fetchJson('https://api.tavily.com/search', { method: 'POST', body }, {
 *     what: 'Tavily search', keyVariable: 'TAVILY_API_KEY', signal,
 *   })
 */
export async function fetchJson(url: string, init: RequestInit, options: FetchJsonOptions): Promise<unknown> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)])
  let response: Response
  try {
    response = await fetch(url, { ...init, signal })
  } catch (error) {
    if (options.signal.aborted) throw new BerthError('TOOL_ABORTED', `${options.what} was cancelled.`, { cause: error })
    const reason = signal.aborted ? 'it timed out' : `the connection failed (${describe(error)})`
    throw new BerthError('WEB_REQUEST_FAILED', `${options.what} failed: ${reason}. Try again later.`, {
      cause: error,
    })
  }
  const text = await readLimited(response, options.maxBytes ?? DEFAULT_MAX_BYTES)
  if (!response.ok) {
    const hint =
      response.status === 401 || response.status === 403
        ? ` The API key was refused: check ${options.keyVariable}.`
        : response.status === 429
          ? ' The provider is rate limiting; wait before searching again.'
          : ''
    throw new BerthError(
      'WEB_REQUEST_FAILED',
      `${options.what} failed with HTTP ${response.status}: ${text.slice(0, 300).trim()}${hint}`,
      { details: { httpStatus: response.status } },
    )
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new BerthError('WEB_REQUEST_FAILED', `${options.what} returned something that is not JSON.`)
  }
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  if (response.body === null) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of response.body) {
    size += chunk.byteLength
    // Leaving the loop cancels the stream, so the rest is never downloaded.
    if (size > maxBytes) throw new BerthError('WEB_REQUEST_FAILED', `The answer was larger than ${maxBytes} bytes.`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error))
}

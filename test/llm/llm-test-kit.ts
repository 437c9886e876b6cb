import { type BerthConfig, loadConfig } from '../../src/config/config.js'
import type { LlmRequest, LlmStreamPart } from '../../src/llm/types.js'

/** A config from exactly these variables: no `.env`, nothing from the machine's environment. */
export function configWith(env: Record<string, string>): BerthConfig {
  return loadConfig({ env, envFile: false })
}

/** Variables that point Chutes at a scripted server, with tiny retry delays. */
export function chutesAt(url: string, extra: Record<string, string> = {}): BerthConfig {
  return configWith({ CHUTES_API_KEY: 'test-key', CHUTES_BASE_URL: url, BERTH_LLM_RETRY_DELAY_MS: '1', ...extra })
}

export function llmRequest(overrides: Partial<LlmRequest> = {}): LlmRequest {
  return {
    system: 'You are a test.',
    messages: [{ role: 'user', content: 'Hi' }],
    tools: [],
    signal: new AbortController().signal,
    ...overrides,
  }
}

export async function collect(stream: AsyncIterable<LlmStreamPart>): Promise<LlmStreamPart[]> {
  const parts: LlmStreamPart[] = []
  for await (const part of stream) parts.push(part)
  return parts
}

export function textOf(parts: readonly LlmStreamPart[]): string {
  return parts.map((part) => (part.type === 'text-delta' ? part.text : '')).join('')
}

export function callsOf(parts: readonly LlmStreamPart[]) {
  return parts.flatMap((part) => (part.type === 'tool-call' ? [part.call] : []))
}

export function finishOf(parts: readonly LlmStreamPart[]) {
  const last = parts.at(-1)
  if (last?.type !== 'finish') throw new Error(`the stream did not end with finish: ${JSON.stringify(last)}`)
  return last
}

/** Run the stream and return the error it ended with (fails the test if it did not throw). */
export async function streamError(stream: AsyncIterable<LlmStreamPart>, seen: LlmStreamPart[] = []): Promise<unknown> {
  try {
    for await (const part of stream) seen.push(part)
  } catch (error) {
    return error
  }
  throw new Error(`expected the stream to fail; it gave ${JSON.stringify(seen)}`)
}

export const BASH_TOOL = {
  name: 'bash',
  description: 'Run a shell command',
  inputSchema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
}

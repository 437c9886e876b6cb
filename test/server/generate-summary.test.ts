import { describe, expect, it } from 'vitest'
import { cleanSummary, DEFAULT_SUMMARY } from '../../src/agent/task-summary.js'
import { apiClient, serverForFile } from './harness.js'

const ORIGIN = 'http://localhost:3000'

describe('POST /api/generate-summary', () => {
  const server = serverForFile({ BERTH_CORS_ORIGINS: ORIGIN })
  const api = apiClient(() => server().server.url)
  // Exactly as the reference frontend sends it (home.tsx generateTaskSummary), from its own origin.
  const ask = (body: unknown) =>
    api('/api/generate-summary', { method: 'POST', headers: { origin: ORIGIN }, body: JSON.stringify(body) })

  it('answers {summary} from the configured model, which is given the message', async () => {
    server().llm.enqueue({ text: '{"summary": "Bakery landing page"}' })
    const before = server().llm.requests.length
    const answer = await ask({ message: 'Build me a landing page for my bakery', modelId: 'claude-sonnet-4-0' })
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ summary: 'Bakery landing page' })
    expect(answer.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    const sent = JSON.stringify(server().llm.requests[before]?.body)
    expect(sent).toContain('Build me a landing page for my bakery')
  })

  it('takes a plain-text answer as the summary', async () => {
    server().llm.enqueue({ text: 'Weather report for Berlin.' })
    expect((await ask({ message: "What's the weather in Berlin?" })).body).toEqual({
      summary: 'Weather report for Berlin',
    })
  })

  it('refuses a missing message with 400, as the reference does', async () => {
    const refused = await ask({ modelId: 'x' })
    expect(refused.status).toBe(400)
    expect(refused.body.code).toBe('INVALID_REQUEST')
    expect(refused.body.error).toMatch(/message/i)
  })

  it('reports a failing model as LLM_REQUEST_FAILED (502)', async () => {
    server().llm.enqueue({ status: 500, errorMessage: 'overloaded' }, { status: 500, errorMessage: 'overloaded' })
    const failed = await ask({ message: 'Plan a trip' })
    expect(failed.status).toBe(502)
    expect(failed.body.code).toBe('LLM_REQUEST_FAILED')
  })
})

describe('without a model configured', () => {
  const server = serverForFile({ CHUTES_API_KEY: undefined, CHUTES_BASE_URL: undefined })
  const api = apiClient(() => server().server.url)

  it('answers 503 LLM_NOT_CONFIGURED, naming what to set', async () => {
    const answer = await api('/api/generate-summary', { method: 'POST', body: JSON.stringify({ message: 'hi' }) })
    expect(answer.status).toBe(503)
    expect(answer.body.code).toBe('LLM_NOT_CONFIGURED')
    expect(answer.body.message).toMatch(/CHUTES_API_KEY|API_KEY/)
  })
})

describe('cleanSummary', () => {
  it('keeps a few words on one line and falls back when nothing usable came back', () => {
    expect(cleanSummary('```json\n{"summary": "Fix the **login** bug"}\n```')).toBe('Fix the login bug')
    expect(cleanSummary('  one\ntwo   three.  ')).toBe('one two three')
    expect(cleanSummary('')).toBe(DEFAULT_SUMMARY)
    expect(cleanSummary('{"title": 3}')).toBe(DEFAULT_SUMMARY)
    expect(cleanSummary('word '.repeat(40)).split(' ')).toHaveLength(12)
  })
})

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { findTool, runTool } from '../../src/tools/run-tool.js'
import { createToolset, type ToolsetConfig } from '../../src/tools/toolset.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: unknown
}

/**
 * One local server speaking the three providers' wire formats, under
 * prefixes: /tavily (search, extract), /jina-s and /jina-r, /serper and
 * /serper-scrape. A key of `bad` is refused with 401; `/hang` never answers.
 */
let server: Server
let base: string
const seen: Seen[] = []

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const body = text === '' || !text.startsWith('{') ? null : JSON.parse(text)
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
    route(req, res, body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

function route(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown> | null) {
  const url = new URL(req.url ?? '/', 'http://x')
  const auth = String(req.headers.authorization ?? req.headers['x-api-key'] ?? '')
  if (auth.endsWith('bad')) return send(res, 401, { detail: { error: 'Unauthorized: missing or invalid API key.' } })
  if (url.pathname.includes('hang')) return // never answers
  if (url.pathname === '/ddg-down/html/') return send(res, 404, { error: 'gone' })
  if (url.pathname === '/tavily/search') {
    return send(res, 200, {
      query: body?.query,
      answer: null,
      results: [
        {
          title: 'Berth docs',
          url: 'https://berth.dev/docs',
          content: 'Self-hosted agents.',
          score: 0.9,
          raw_content: null,
        },
        { title: 'Other', url: 'https://other.dev', content: 'Else.', score: 0.5, raw_content: null },
      ],
      response_time: 0.5,
    })
  }
  if (url.pathname === '/tavily/extract') {
    const target = String((body?.urls as string[] | undefined)?.[0])
    if (target.includes('broken')) {
      return send(res, 200, {
        results: [],
        failed_results: [{ url: target, error: 'Failed to fetch url' }],
        response_time: 0.1,
      })
    }
    return send(res, 200, {
      results: [{ url: target, raw_content: '# Page\nBody text.', images: ['https://img/1.png'] }],
      failed_results: [],
      response_time: 0.2,
    })
  }
  if (url.pathname === '/jina-s/') {
    return send(res, 200, {
      code: 200,
      status: 20000,
      data: [
        { title: 'Jina one', url: 'https://one.example', description: 'First.', content: '' },
        { title: 'Jina two', url: 'https://two.example', description: 'Second.', content: '' },
      ],
    })
  }
  if (url.pathname.startsWith('/jina-r/')) {
    return send(res, 200, {
      code: 200,
      status: 20000,
      data: {
        title: 'Read page',
        url: url.pathname.slice('/jina-r/'.length),
        content: 'Markdown body.',
        description: '',
      },
    })
  }
  if (url.pathname === '/serper/search') {
    return send(res, 200, {
      searchParameters: { q: body?.q, type: 'search', engine: 'google' },
      organic: [{ title: 'Serper hit', link: 'https://serper.example', snippet: 'Snippet.', position: 1 }],
      credits: 1,
    })
  }
  if (url.pathname === '/serper-scrape') {
    return send(res, 200, {
      text: 'Plain text',
      markdown: '# Scraped\nMarkdown.',
      metadata: { title: 'Scraped' },
      credits: 1,
    })
  }
  send(res, 404, { error: 'not found' })
}

let context: FakeToolContext
afterEach(async () => {
  seen.length = 0
  await context?.resources.dispose()
})

function toolsWith(config: Partial<ToolsetConfig>) {
  // The keyless fallback points at this server too, where it finds nothing.
  const tools = createToolset({ bashTimeout: 10, duckDuckGoBaseUrl: `${base}/ddg-down`, ...config })
  return {
    names: tools.map((t) => t.name),
    search: (input: unknown) => runTool(findTool(tools, 'web_search')!, input, context),
    visit: (input: unknown) => runTool(findTool(tools, 'visit_webpage')!, input, context),
  }
}

describe('web tools', () => {
  it('are offered with and without a provider key; image_search only with Serper', () => {
    for (const config of [{}, { jinaApiKey: 'k' }, { serperApiKey: 'k' }]) {
      expect(toolsWith(config).names.slice(0, 4)).toEqual([
        'sequential_thinking',
        'web_search',
        'visit_webpage',
        'youtube_video_transcript',
      ])
      expect(toolsWith(config).names).toContain('list_html_links')
    }
    expect(toolsWith({}).names).not.toContain('image_search')
    expect(toolsWith({ tavilyApiKey: 'k', jinaApiKey: 'k' }).names).not.toContain('image_search')
    expect(toolsWith({ serperApiKey: 'k' }).names).toContain('image_search')
  })

  it('speak Tavily', async () => {
    context = await makeToolContext()
    const tools = toolsWith({ tavilyApiKey: 'tvly-key', tavilyBaseUrl: `${base}/tavily/` })
    const found = await tools.search({ query: 'berth', max_results: 2 })
    expect(JSON.parse(found.output)).toEqual([
      { title: 'Berth docs', url: 'https://berth.dev/docs', content: 'Self-hosted agents.' },
      { title: 'Other', url: 'https://other.dev', content: 'Else.' },
    ])
    expect(seen[0]).toMatchObject({ method: 'POST', body: { query: 'berth', max_results: 2 } })
    expect(seen[0]?.headers.authorization).toBe('Bearer tvly-key')
    const page = await tools.visit({ url: 'https://berth.dev/docs' })
    expect(page.output).toBe('# Page\nBody text.\n\n### Images:\n![Image 1](https://img/1.png)')
    expect(seen[1]?.body).toEqual({ urls: ['https://berth.dev/docs'] })
    // Tavily fails the page, and the plain-fetch fallback may not reach this machine's own address.
    const broken = await tools.visit({ url: `${base}/broken` })
    expect(broken).toEqual({
      output:
        `Error: Could not read ${base}/broken with Tavily: Failed to fetch url. The keyless fallback failed too: ` +
        'Refused to fetch 127.0.0.1: it resolves to 127.0.0.1, a local or private network address. Only public web ' +
        'addresses can be visited (an operator can allow private ones with BERTH_WEB_ALLOW_PRIVATE=true).',
      isError: true,
    })
  })

  it('speak Jina', async () => {
    context = await makeToolContext()
    const tools = toolsWith({
      jinaApiKey: 'jina-key',
      jinaSearchBaseUrl: `${base}/jina-s`,
      jinaReaderBaseUrl: `${base}/jina-r`,
    })
    const found = await tools.search({ query: 'a b', max_results: 1 })
    expect(JSON.parse(found.output)).toEqual([{ title: 'Jina one', url: 'https://one.example', content: 'First.' }])
    expect(seen[0]?.url).toBe('/jina-s/?q=a+b&num=1')
    expect(seen[0]?.headers).toMatchObject({ authorization: 'Bearer jina-key', accept: 'application/json' })
    const page = await tools.visit({ url: 'example.com/x' })
    expect(page.output).toBe('Read page\n\nMarkdown body.')
    expect(seen[1]?.url).toBe('/jina-r/https://example.com/x')
  })

  it('speak Serper', async () => {
    context = await makeToolContext()
    const tools = toolsWith({
      serperApiKey: 'serper-key',
      serperBaseUrl: `${base}/serper`,
      serperScrapeBaseUrl: `${base}/serper-scrape`,
    })
    const found = await tools.search({ query: 'q' })
    expect(JSON.parse(found.output)).toEqual([
      { title: 'Serper hit', url: 'https://serper.example', content: 'Snippet.' },
    ])
    expect(seen[0]?.headers['x-api-key']).toBe('serper-key')
    expect(seen[0]?.body).toEqual({ q: 'q', num: 5 })
    const page = await tools.visit({ url: 'https://serper.example' })
    expect(page.output).toBe('Scraped\n\n# Scraped\nMarkdown.')
    expect(seen[1]?.body).toEqual({ url: 'https://serper.example/', includeMarkdown: true })
  })

  it('report a refused key, a bad URL and a cancelled request as errors for the model', async () => {
    context = await makeToolContext()
    const refused = await toolsWith({ tavilyApiKey: 'bad', tavilyBaseUrl: `${base}/tavily` }).search({ query: 'x' })
    expect(refused.isError).toBe(true)
    expect(refused.output).toMatch(
      /^Error: Tavily search failed with HTTP 401: .*check TAVILY_API_KEY\. The keyless fallback failed too: DuckDuckGo search failed with HTTP 404\.$/,
    )
    const tools = toolsWith({ serperApiKey: 'k', serperBaseUrl: `${base}/serper/hang` })
    expect((await tools.visit({ url: 'file:///etc/passwd' })).isError).toBe(true)
    const pending = tools.search({ query: 'slow' })
    setTimeout(() => context.controller.abort(), 100)
    const started = Date.now()
    const cancelled = await pending
    expect(Date.now() - started).toBeLessThan(1000)
    expect(cancelled.isError).toBe(true)
    expect(cancelled.output).toMatch(/cancelled/)
  })
})

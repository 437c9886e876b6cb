import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { findTool, runTool } from '../../src/tools/run-tool.js'
import { createToolset, type ToolsetConfig } from '../../src/tools/toolset.js'
import { isPublicAddress } from '../../src/tools/web/address-guard.js'
import { parseDuckDuckGoResults, unwrapRedirect } from '../../src/tools/web/duckduckgo.js'
import { safeFetch } from '../../src/tools/web/safe-fetch.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'
import { ddgPage, type FakeWeb, PAPER_PDF, startFakeWeb } from './web-fixtures.js'

let web: FakeWeb
let context: FakeToolContext
let logs: string[]

beforeAll(async () => {
  web = await startFakeWeb()
})
afterAll(async () => {
  await web.close()
})
afterEach(async () => {
  web.seen.length = 0
  await context?.resources.dispose()
})

async function freshContext(): Promise<FakeToolContext> {
  context = await makeToolContext()
  logs = []
  context.logger = pino({ level: 'warn' }, { write: (line: string) => logs.push(line) })
  return context
}

/** The toolset without keys, its keyless endpoints on the fake web, private addresses allowed (it is on 127.0.0.1). */
function tools(config: Partial<ToolsetConfig> = {}) {
  const list = createToolset({
    bashTimeout: 10,
    duckDuckGoBaseUrl: web.base,
    arxivBaseUrl: `${web.base}/arxiv`,
    youtubeBaseUrl: web.base,
    webAllowPrivate: true,
    ...config,
  })
  const run = (name: string) => (input: unknown) => runTool(findTool(list, name)!, input, context)
  return {
    names: list.map((tool) => tool.name),
    search: run('web_search'),
    visit: run('visit_webpage'),
    transcript: run('youtube_video_transcript'),
    links: run('list_html_links'),
    images: run('image_search'),
  }
}

describe('web_search without a key (DuckDuckGo)', () => {
  it('posts the query to the HTML endpoint and returns titles, unwrapped links and snippets, ads skipped', async () => {
    await freshContext()
    const result = await tools().search({ query: 'sea otters', max_results: 2 })
    expect(result.isError).toBeUndefined()
    expect(JSON.parse(result.output)).toEqual([
      {
        title: 'Sea otter - Wikipedia',
        url: 'https://en.wikipedia.org/wiki/Sea_otter',
        content: 'The sea otter is a marine mammal & a keystone species.',
      },
      { title: "Otter facts '24", url: 'https://otters.example/facts?a=1&b=2', content: 'Ten things about otters.' },
    ])
    expect(web.seen[0]).toMatchObject({ method: 'POST', url: '/html/' })
    expect(new URLSearchParams(web.seen[0]?.body).get('q')).toBe('sea otters')
    expect(web.seen[0]?.headers['user-agent']).toMatch(/^Mozilla\/5\.0/)
  })

  it('parses every organic result of a page, including one without a snippet', () => {
    expect(unwrapRedirect('https://duckduckgo.com/y.js?ad_domain=ads.example&u3=x')).toBeNull()
    expect(unwrapRedirect('//duckduckgo.com/l/?uddg=https%3A%2F%2Fa.example%2Fp%3Fq%3D1&rut=x')).toBe(
      'https://a.example/p?q=1',
    )
    expect(parseDuckDuckGoResults(ddgPage('x')).map((hit) => hit.url)).toEqual([
      'https://en.wikipedia.org/wiki/Sea_otter',
      'https://otters.example/facts?a=1&b=2',
      'https://zoo.example/otters',
    ])
  })

  it('says so when there are no results, and explains a bot check', async () => {
    await freshContext()
    expect(await tools().search({ query: 'nothing' })).toEqual({ output: 'No search results found for query: nothing' })
    const blocked = await tools().search({ query: 'robot' })
    expect(blocked.isError).toBe(true)
    expect(blocked.output).toMatch(/^Error: DuckDuckGo refused the search with a bot check/)
  })

  it('is the fallback when the keyed provider fails, and the failure is logged for the operator', async () => {
    await freshContext()
    // Serper at an address that answers 404: the keyed search fails, DuckDuckGo answers.
    const result = await tools({ serperApiKey: 'k', serperBaseUrl: `${web.base}/no-serper` }).search({
      query: 'otters',
    })
    expect(result.isError).toBeUndefined()
    expect(JSON.parse(result.output)[0].url).toBe('https://en.wikipedia.org/wiki/Sea_otter')
    expect(web.seen.map((r) => r.url)).toEqual(['/no-serper/search', '/html/'])
    expect(logs.join('')).toContain('Serper search failed with HTTP 404')
    expect(logs.join('')).toContain('Answered by the keyless fallback instead')
    // The same for a page: Tavily cannot extract it, the plain fetch reads it.
    web.seen.length = 0
    const page = await tools({ tavilyApiKey: 'k', tavilyBaseUrl: `${web.base}/no-tavily` }).visit({
      url: `${web.base}/doc`,
    })
    expect(page.output).toContain('| Sea otter | 1.2 m |')
    expect(web.seen.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /no-tavily/extract', 'GET /doc'])
    expect(logs.join('')).toContain('Tavily extract failed with HTTP 404')
  })
})

describe('visit_webpage without a key (plain fetch)', () => {
  it('turns a page into markdown with its title, absolute links and the table kept', async () => {
    await freshContext()
    const { output, isError } = await tools().visit({ url: `${web.base}/doc` })
    expect(isError).toBeUndefined()
    expect(output.split('\n')[0]).toBe('Otter facts & figures')
    expect(output).toContain('# Sea otters')
    expect(output).toContain(`See [river otters](${web.base}/species/river)`)
    expect(output).toContain('[encyclopedia](https://en.wikipedia.org/wiki/Sea_otter)')
    expect(output).toContain(
      ['| Species | Length |', '| --- | --- |', '| Sea otter | 1.2 m |', '| Giant otter | 1.8 m |'].join('\n'),
    )
    expect(output).toContain('- Dense fur\n- Tool use')
    expect(output).not.toContain('not content')
    expect(output).not.toContain('color: red')
  })

  it('follows redirects, decodes gzip and latin-1, and returns JSON as text', async () => {
    await freshContext()
    const t = tools()
    expect((await t.visit({ url: `${web.base}/moved` })).output).toContain('# Sea otters')
    expect(web.seen.map((r) => r.url)).toEqual(['/moved', '/doc'])
    expect((await t.visit({ url: `${web.base}/zipped` })).output).toBe('Zipped\n\nCompressed otters.')
    expect((await t.visit({ url: `${web.base}/latin1` })).output).toBe('Café of otters')
    expect((await t.visit({ url: `${web.base}/data.json` })).output).toBe('{"otters": 13}')
    const loop = await t.visit({ url: `${web.base}/loop` })
    expect(loop).toEqual({ output: `Error: ${web.base}/loop redirected more than 5 times.`, isError: true })
    const toFile = await t.visit({ url: `${web.base}/to-file` })
    expect(toFile).toEqual({
      output:
        'Error: Refused to fetch file:///etc/passwd: only http:// and https:// addresses can be fetched, not file:',
      isError: true,
    })
    const missing = await t.visit({ url: `${web.base}/missing` })
    expect(missing.isError).toBe(true)
    expect(missing.output).toContain('failed with HTTP 404')
  })

  it('saves a PDF under downloads/ and returns its text page by page; a file that is not what it claims is saved and explained', async () => {
    await freshContext()
    const t = tools()
    const pdf = await t.visit({ url: `${web.base}/papers/kelp%20study.pdf` })
    expect(pdf.isError).toBeUndefined()
    expect(pdf.output).toMatch(
      new RegExp(
        `^Saved ${web.base}/papers/kelp%20study\\.pdf \\(${PAPER_PDF.byteLength} B\\) to downloads/kelp study\\.pdf\\.\n\n`,
      ),
    )
    expect(pdf.output).toMatch(/--- Page 1 ---\nOtters hold hands\.\n\n--- Page 2 ---\nKelp forests need otters\./)
    expect(await readFile(path.join(context.workspaceDir, 'downloads', 'kelp study.pdf'))).toEqual(PAPER_PDF)
    const report = await t.visit({ url: `${web.base}/report` })
    expect(report.output).toContain('to downloads/report.pdf.')
    expect(report.output).toContain('Kelp forests need otters.')
    // Served as image/png, but its bytes are no PNG: kept for bash, and the model is told why it is not shown.
    const image = await t.visit({ url: `${web.base}/image.png` })
    expect(image.isError).toBeUndefined()
    expect(image.output).toMatch(
      /^Saved .*\/image\.png \(2\.0 KB\) to downloads\/image\.png\. Its contents could not be read as text: /,
    )
    expect((await readFile(path.join(context.workspaceDir, 'downloads', 'image.png'))).byteLength).toBe(2048)
    // Past the size cap a document is neither saved nor read.
    const capped = await tools({ webMaxBytes: 512 }).visit({ url: `${web.base}/report` })
    expect(capped.output).toMatch(
      /\/report is a PDF document of more than 512 B, too large to read here\. .*curl -L -o/,
    )
  })

  it('gives up on a page that never answers after BERTH_WEB_TIMEOUT, and the next call still works', async () => {
    await freshContext()
    const t = tools({ webTimeout: 0.5 })
    const started = Date.now()
    const slow = await t.visit({ url: `${web.base}/slow` })
    expect(Date.now() - started).toBeLessThan(3000)
    expect(slow).toEqual({ output: `Error: Fetching ${web.base}/slow timed out after 0.5 s.`, isError: true })
    expect((await t.visit({ url: `${web.base}/doc` })).output).toContain('# Sea otters')
    // Cancelling the run ends the fetch at once, and the keyed provider's fallback is not tried for it.
    const keyed = tools({ tavilyApiKey: 'k', tavilyBaseUrl: `${web.base}/slow` })
    const pending = keyed.visit({ url: `${web.base}/doc` })
    setTimeout(() => context.controller.abort(), 100)
    const cancelStarted = Date.now()
    const cancelled = await pending
    expect(Date.now() - cancelStarted).toBeLessThan(1000)
    expect(cancelled).toEqual({ output: 'Tool visit_webpage was cancelled.', isError: true })
    expect(web.seen.filter((r) => r.url === '/doc')).toHaveLength(1) // only the earlier visit
  })

  it('stops downloading an endless page at BERTH_WEB_MAX_BYTES and says it was cut', async () => {
    await freshContext()
    const huge = await tools({ webMaxBytes: 64 * 1024 }).visit({ url: `${web.base}/huge` })
    expect(huge.isError).toBeUndefined()
    expect(huge.output.startsWith('Huge\n\notter otter')).toBe(true)
    expect(huge.output.endsWith('[The page was cut at 64.0 KB; the rest was not downloaded.]')).toBe(true)
  })

  it('caps a compressed endless page after decompression, and reports a connection cut mid-body at once', async () => {
    await freshContext()
    const t = tools({ webMaxBytes: 64 * 1024, webTimeout: 10 })
    const huge = await t.visit({ url: `${web.base}/huge-gzip` })
    expect(huge.output.endsWith('[The page was cut at 64.0 KB; the rest was not downloaded.]')).toBe(true)
    for (const name of ['cut', 'cut-gzip']) {
      const started = Date.now()
      const cut = await t.visit({ url: `${web.base}/${name}` })
      expect(Date.now() - started, name).toBeLessThan(2000)
      expect(cut.isError, name).toBe(true)
      expect(cut.output, name).toMatch(new RegExp(`^Error: Fetching ${web.base}/${name} failed: `))
    }
  })

  it('reads an arxiv abstract as its HTML rendering', async () => {
    await freshContext()
    const paper = await tools().visit({ url: 'https://arxiv.org/abs/1706.03762v7' })
    expect(paper.output).toBe('Attention for otters\n\n# Abstract\n\nPaper 1706.03762v7.')
    expect(web.seen.map((r) => r.url)).toEqual(['/arxiv/html/1706.03762v7'])
  })

  it('refuses file: URLs, and local or private addresses unless BERTH_WEB_ALLOW_PRIVATE', async () => {
    await freshContext()
    const guarded = tools({ webAllowPrivate: false })
    const file = await guarded.visit({ url: 'file:///etc/passwd' })
    expect(file).toEqual({
      output: 'Not a web address: file:///etc/passwd. Give a full http:// or https:// URL.',
      isError: true,
    })
    for (const url of [
      `${web.base}/doc`, // a literal loopback address
      `http://localhost:${web.port}/doc`, // a name that resolves to one
      `http://[::ffff:127.0.0.1]:${web.port}/doc`, // the same, IPv4-mapped
      `http://0x7f000001:${web.port}/doc`, // the same, spelled in hex
    ]) {
      const refused = await guarded.visit({ url })
      expect(refused.isError, url).toBe(true)
      expect(refused.output, url).toMatch(/a local or private network address/)
    }
    expect(web.seen).toEqual([]) // nothing reached the server
    // Every redirect hop is checked: with only 127.0.0.1 allowed, a hop to 127.0.0.2 is refused.
    const onlyThisServer = { signal: context.signal, timeoutMs: 5000, maxBytes: 1e6, allowPrivate: false }
    const allowAddress = (address: string) => address === '127.0.0.1'
    expect((await safeFetch(`${web.base}/moved`, { ...onlyThisServer, allowAddress })).status).toBe(200)
    await expect(
      safeFetch(`${web.base}/to-other-host?port=${web.port}`, { ...onlyThisServer, allowAddress }),
    ).rejects.toThrow(/Refused to fetch 127\.0\.0\.2: it resolves to 127\.0\.0\.2/)
    await expect(
      safeFetch(`http://localhost:${web.port}/doc`, { ...onlyThisServer, allowAddress: () => false }),
    ).rejects.toMatchObject({
      code: 'WEB_REQUEST_FAILED',
      message: expect.stringMatching(/^Refused to fetch localhost/),
    })
    expect(isPublicAddress('169.254.169.254')).toBe(false)
    expect(isPublicAddress('10.1.2.3')).toBe(false)
    expect(isPublicAddress('fd00::1')).toBe(false)
    expect(isPublicAddress('64:ff9b::a00:1')).toBe(false) // NAT64 of 10.0.0.1
    expect(isPublicAddress('93.184.216.34')).toBe(true)
    expect(isPublicAddress('2606:4700::1111')).toBe(true)
  })
})

describe('youtube_video_transcript', () => {
  it('returns the captions as text, through the player API and timedtext', async () => {
    await freshContext()
    const result = await tools().transcript({ url: 'https://www.youtube.com/watch?v=otterVideo1' })
    expect(result).toEqual({ output: 'Otters hold hands so they do not drift apart & lose each other.' })
    expect(web.seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /youtubei/v1/player?prettyPrint=false',
      'GET /api/timedtext?v=otterVideo1&lang=en',
    ])
  })

  it('falls back to the first language offered when there is no English transcript, and says so', async () => {
    await freshContext()
    const result = await tools().transcript({ url: 'https://www.youtube.com/watch?v=germanVid01&t=42' })
    expect(result).toEqual({ output: '(No English transcript; this one is in de.)\n\nOtter halten Pfoten.' })
  })

  it('explains a video without captions and an address that is not a video', async () => {
    await freshContext()
    const off = await tools().transcript({ url: 'https://youtu.be/noCaptions1' })
    expect(off).toEqual({
      output:
        'Could not get a transcript for https://youtu.be/noCaptions1: Transcript is disabled on this video (https://youtu.be/noCaptions1)',
      isError: true,
    })
    const notVideo = await tools().transcript({ url: 'https://example.com/otters' })
    expect(notVideo.isError).toBe(true)
    expect(notVideo.output).toContain('Impossible to retrieve Youtube video ID')
  })
})

describe('list_html_links', () => {
  it('lists the local pages a site links to and which are missing, through the one door', async () => {
    await freshContext()
    const site = path.join(context.workspaceDir, 'site')
    await mkdir(path.join(site, 'docs'), { recursive: true })
    await writeFile(
      path.join(site, 'index.html'),
      `<html><body>
        <a href="about.html">About</a> <a class="x" href='contact'>Contact</a>
        <a href="docs/guide.html#top">Guide</a> <a href="https://example.com/page.html">External</a>
        <a href="#top">Top</a> <a href="mailto:a@b.c">Mail</a> <a href="style.css">CSS</a>
        <a href="/team.html?x=1">Team</a>
      </body></html>`,
    )
    await writeFile(path.join(site, 'about.html'), '<a href="index.html">Home</a>')
    await writeFile(
      path.join(site, 'docs', 'guide.html'),
      '<a href="../index.html">Home</a> <a href="faq.html">FAQ</a>',
    )
    await writeFile(path.join(site, 'notes.txt'), 'not html')

    const one = await tools().links({ path: 'site/index.html' })
    expect(one.output).toBe(
      "Local HTML pages linked from 'site/index.html': about.html, contact, guide.html, team.html. " +
        'Missing in the workspace: contact, team.html. ' +
        'Compare them with the pages you planned (e.g. in todo.md) and create any that are missing.',
    )
    const all = await tools().links({ path: '/workspace/site' })
    expect(all.output).toMatch(
      /^Local HTML pages linked from 'site': about\.html, contact, faq\.html, guide\.html, index\.html, team\.html\. Missing in the workspace: contact, faq\.html, team\.html\./,
    )
    expect(await tools().links({ path: 'site/notes.txt' })).toEqual({
      output: 'Error: site/notes.txt is not an HTML file.',
      isError: true,
    })
    expect(await tools().links({ path: 'nowhere' })).toEqual({
      output: 'Error: Path not found: nowhere',
      isError: true,
    })
  })

  it('refuses a symlink out of the workspace', async () => {
    await freshContext()
    await mkdir(context.outside, { recursive: true })
    await writeFile(path.join(context.outside, 'secret.html'), '<a href="secret-page.html">x</a>')
    await symlink(path.join(context.outside, 'secret.html'), path.join(context.workspaceDir, 'leak.html'))
    const leak = await tools().links({ path: 'leak.html' })
    expect(leak.isError).toBe(true)
    expect(leak.output).toMatch(/outside the workspace/)
    expect(leak.output).not.toContain('secret-page')
  })
})

describe('image_search', () => {
  it('is offered only with a Serper key and returns image URLs with their size', async () => {
    await freshContext()
    expect(tools().names).not.toContain('image_search')
    const t = tools({ serperApiKey: 'serper-key', serperBaseUrl: `${web.base}/serper` })
    const result = await t.images({ query: 'sea otter' })
    expect(JSON.parse(result.output)).toEqual([
      { title: 'Sea otter floating', image_url: 'https://images.example/otter.jpg', width: 1200, height: 800 },
    ])
    expect(web.seen[0]).toMatchObject({ method: 'POST', url: '/serper/images' })
    expect(JSON.parse(web.seen[0]?.body ?? '')).toEqual({ q: 'sea otter', num: 5 })
    expect(web.seen[0]?.headers['x-api-key']).toBe('serper-key')
  })
})

import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { BrowserPool } from '../../src/tools/browser/browser-pool.js'
import type { BrowserSessionOptions } from '../../src/tools/browser/browser-session.js'
import { browserSessionOf, createBrowserTools } from '../../src/tools/browser/browser-tools.js'
import { type AnyTool, runTool } from '../../src/tools/run-tool.js'
import type { ToolResult } from '../../src/tools/tool.js'
import { PNG_1PX } from '../helpers/images.js'
import { TSX_IMPORT } from '../helpers/tsx.js'
import { type FakeSite, startFakeSite } from './browser-fixtures.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'

const CHROMIUM = '/usr/bin/chromium'
if (!existsSync(CHROMIUM))
  throw new Error(`The browser tests need Debian's chromium at ${CHROMIUM}: apt-get install -y chromium`)

let site: FakeSite
let pool: BrowserPool
const contexts: FakeToolContext[] = []

beforeAll(async () => {
  site = await startFakeSite()
  pool = new BrowserPool({ executablePath: CHROMIUM, maxContexts: 3, lingerMs: 60_000 })
})
afterAll(async () => {
  await pool.close()
  await site.close()
})
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.resources.dispose()
})

function options(overrides: Partial<BrowserSessionOptions> = {}): BrowserSessionOptions {
  // The test site is on 127.0.0.1, so private addresses are allowed (as BERTH_WEB_ALLOW_PRIVATE=true does);
  // berth's own port is a port nothing listens on unless a test says otherwise.
  return { pool, serverPort: 1, allowPrivate: true, idleMs: 60_000, navigationTimeoutMs: 10_000, ...overrides }
}

async function setup(overrides: Partial<BrowserSessionOptions> = {}, publicUrl?: string) {
  const context = await makeToolContext(publicUrl === undefined ? {} : { publicUrl })
  contexts.push(context)
  const tools = createBrowserTools(options(overrides))
  const call = async (name: string, input: Record<string, unknown> = {}): Promise<ToolResult> => {
    const tool = tools.find((t) => t.name === name) as AnyTool
    return runTool(tool, input, context)
  }
  return { context, tools, call }
}

/** The image part must be a real JPEG in the workspace. */
async function expectScreenshot(result: ToolResult, context: FakeToolContext): Promise<void> {
  expect(result.images).toHaveLength(1)
  const image = result.images?.[0]
  expect(image?.mediaType).toBe('image/jpeg')
  expect(image?.path).toMatch(/^browser\/screenshots\/[a-z0-9]+-\d+\.jpg$/)
  const bytes = await readFile(path.join(context.workspaceDir, image?.path ?? ''))
  expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]))
  expect(bytes.byteLength).toBeLessThan(1_000_000)
}

/** Where browser_view_interactive_elements says to click the element whose line holds `text`. */
function positionOf(listing: string, text: string): [number, number] {
  const line = listing.split('\n').find((l) => /^\[\d+\]</.test(l) && l.includes(text))
  const match = line === undefined ? null : /at \((\d+), (\d+)\)$/.exec(line)
  if (match === null) throw new Error(`No element with ${text} in:\n${listing}`)
  return [Number(match[1]), Number(match[2])]
}

describe('the browser tools on real chromium', () => {
  it('offers the reference names and parameters', () => {
    const tools = createBrowserTools(options())
    expect(tools.map((t) => t.name)).toEqual([
      'browser_navigation',
      'browser_restart',
      'browser_click',
      'browser_enter_text',
      'browser_press_key',
      'browser_scroll_down',
      'browser_scroll_up',
      'browser_wait',
      'browser_view_interactive_elements',
      'browser_switch_tab',
      'browser_open_new_tab',
      'browser_get_select_options',
      'browser_select_dropdown_option',
    ])
  })

  it('returns a screenshot and the text scripts wrote after load; browser_wait sees later text', async () => {
    const { context, call } = await setup()
    const result = await call('browser_navigation', { url: `${site.base}/scripted` })
    expect(result.isError).toBeUndefined()
    expect(result.output).toContain(`URL: ${site.base}/scripted`)
    expect(result.output).toContain('Title: Scripted')
    expect(result.output).toContain('Fetched after load: otter')
    expect(result.output).toContain('Counted to 10')
    expect(result.output).not.toContain('tortoise')
    await expectScreenshot(result, context)
    const waited = await call('browser_wait')
    expect(waited.output).toContain('Written late: tortoise')
  })

  it('fills a form: numbered elements, text, a dropdown option, submit, the result page', async () => {
    const { context, call } = await setup()
    await call('browser_navigation', { url: `${site.base}/form` })
    const view = await call('browser_view_interactive_elements')
    await expectScreenshot(view, context)
    const lines = view.output.split('\n').filter((line) => /^\[\d+\]</.test(line))
    const input = lines.find((line) => line.includes('<input type="text">Your name'))
    const select = lines.find((line) => line.startsWith('[') && line.includes('<select>'))
    const button = lines.find((line) => line.includes('<button>Send order</button>'))
    expect(input && select && button, view.output).toBeTruthy()
    const selectIndex = Number(/^\[(\d+)\]/.exec(select as string)?.[1])

    const options = await call('browser_get_select_options', { index: selectIndex })
    expect(options.output).toContain('0: option="Red"\n1: option="Green"\n2: option="Blue"')
    const wrong = await call('browser_select_dropdown_option', { index: selectIndex, option: 'Purple' })
    expect(wrong).toMatchObject({ isError: true })
    expect(wrong.output).toContain('Available options: Red, Green, Blue')
    const notSelect = await call('browser_get_select_options', {
      index: Number(/^\[(\d+)\]/.exec(button as string)?.[1]),
    })
    expect(notSelect.output).toContain("is not a select element, it's a button")
    const chosen = await call('browser_select_dropdown_option', { index: selectIndex, option: 'Green' })
    expect(chosen.output).toContain("Selected option 'Green' with value 'g'")

    const [ix, iy] = positionOf(view.output, 'Your name')
    await call('browser_click', { coordinate_x: ix, coordinate_y: iy })
    await call('browser_enter_text', { text: 'Ada Lovelace' })
    const [bx, by] = positionOf(view.output, 'Send order')
    const submitted = await call('browser_click', { coordinate_x: bx, coordinate_y: by })
    expect(submitted.output).toContain('Title: Result')
    expect(submitted.output).toContain('Order for Ada Lovelace in colour g')
  })

  it('saves a download under downloads/, and a PDF link is shown, kept and read page by page', async () => {
    const { context, call } = await setup()
    await call('browser_navigation', { url: `${site.base}/links` })
    const view = await call('browser_view_interactive_elements')
    const [dx, dy] = positionOf(view.output, 'Get the data')
    const downloaded = await call('browser_click', { coordinate_x: dx, coordinate_y: dy })
    expect(downloaded.output).toMatch(/Downloaded .*\/file\.csv \(.*\) to downloads\/birds\.csv\./)
    expect(await readFile(path.join(context.workspaceDir, 'downloads/birds.csv'), 'utf8')).toBe('bird,count\nwren,3\n')
    const direct = await call('browser_navigation', { url: `${site.base}/file.csv?again` })
    expect(direct.isError).toBeUndefined()
    expect(direct.output).toContain(`${site.base}/file.csv?again started a download.`)
    expect(direct.output).toContain('to downloads/birds.csv.')

    const pdf = await call('browser_navigation', { url: `${site.base}/paper.pdf` })
    expect(pdf.isError).toBeUndefined()
    expect(pdf.output).toContain('to downloads/paper.pdf')
    expect(pdf.output).toContain('Browser PDF page one: kestrel')
    expect(pdf.output).toContain('Browser PDF page two: heron')
    expect((await readFile(path.join(context.workspaceDir, 'downloads/paper.pdf'))).subarray(0, 5).toString()).toBe(
      '%PDF-',
    )
    await expectScreenshot(pdf, context)
  })

  it('follows a link into a new tab, lists the tabs and switches back', async () => {
    const { call } = await setup()
    await call('browser_navigation', { url: `${site.base}/links` })
    const view = await call('browser_view_interactive_elements')
    const [x, y] = positionOf(view.output, 'Open second page')
    const clicked = await call('browser_click', { coordinate_x: x, coordinate_y: y })
    expect(clicked.output).toContain('a new tab opened; switched to it')
    expect(clicked.output).toContain('The second page says puffin.')
    expect(clicked.output).toContain(`[1] Second (${site.base}/second) <- current`)
    const back = await call('browser_switch_tab', { index: 0 })
    expect(back.output).toContain('Title: Links')
    expect(back.output).toContain(`[0] Links (${site.base}/links) <- current`)
    const missing = await call('browser_switch_tab', { index: 5 })
    expect(missing).toMatchObject({ isError: true })
    expect(missing.output).toContain('No tab 5: 2 tab(s) are open')
    const blank = await call('browser_open_new_tab')
    expect(blank.output).toContain('URL: about:blank')
    expect(blank.output).toContain('[2] (untitled) (about:blank) <- current')
    const badKey = await call('browser_press_key', { key: 'NoSuchKey' })
    expect(badKey).toMatchObject({ isError: true })
    expect(badKey.output).toContain('Cannot press "NoSuchKey"')
    // A restart is a fresh context: one tab, on the address given.
    const restarted = await call('browser_restart', { url: `${site.base}/form` })
    expect(restarted.output).toContain('Title: Order form')
    expect(restarted.output).not.toContain('Tabs:')
  })

  it('scrolling moves the page and the text window with it', async () => {
    const { call } = await setup({ textChars: 2_000 })
    const top = await call('browser_navigation', { url: `${site.base}/long` })
    expect(top.output).toContain('Paragraph 0 of the long page.')
    expect(top.output).not.toContain('THE END MARKER')
    let last = top
    for (let i = 0; i < 40 && !last.output.includes('THE END MARKER'); i++) last = await call('browser_scroll_down')
    expect(last.output).toContain('THE END MARKER')
    expect(last.output).not.toContain('Paragraph 0 of')
    const up = await call('browser_scroll_up')
    expect(up.output).toMatch(/\d+ px scrolled/)
  })

  it('a page that never loads is a clear timeout, and the same browser goes on', async () => {
    const { call } = await setup({ navigationTimeoutMs: 1_500 })
    const started = Date.now()
    const hung = await call('browser_navigation', { url: `${site.base}/hang` })
    expect(hung).toMatchObject({ isError: true })
    expect(hung.output).toContain(`Timeout: ${site.base}/hang did not load within 2 s`)
    expect(Date.now() - started).toBeLessThan(8_000)
    const next = await call('browser_navigation', { url: `${site.base}/second` })
    expect(next.isError).toBeUndefined()
    expect(next.output).toContain('puffin')
  })

  it('cancelling the run ends a step stuck in a page that never loads', async () => {
    const { context, call } = await setup({ navigationTimeoutMs: 20_000 })
    const started = Date.now()
    const pending = call('browser_navigation', { url: `${site.base}/hang` })
    setTimeout(() => context.controller.abort(), 500)
    const result = await pending
    expect(result).toEqual({ output: 'Tool browser_navigation was cancelled.', isError: true })
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('a crashed tab is an error; the next call opens a fresh tab', async () => {
    const { context, call } = await setup()
    await call('browser_navigation', { url: `${site.base}/second` })
    const session = browserSessionOf(context, options())
    const page = await session.page(context)
    const waiting = call('browser_wait')
    await new Promise((resolve) => setTimeout(resolve, 300))
    const cdp = await page.context().newCDPSession(page)
    void cdp.send('Page.crash').catch(() => {})
    const crashed = await waiting
    expect(crashed).toMatchObject({ isError: true })
    expect(crashed.output).toContain('The browser tab crashed')
    const again = await call('browser_navigation', { url: `${site.base}/second` })
    expect(again.isError).toBeUndefined()
    expect(again.output).toContain('puffin')
  })

  it("refuses berth's own API but opens this session's deployed pages there", async () => {
    const { context, call } = await setup({ serverPort: site.port }, `http://localhost:${site.port}`)
    site.seen.length = 0
    const api = await call('browser_navigation', { url: `${site.base}/api/sessions` })
    expect(api).toMatchObject({ isError: true })
    expect(api.output).toContain("that is berth's own server")
    const other = await call('browser_navigation', {
      url: `http://localhost:${site.port}/workspace/someone-else/index.html`,
    })
    expect(other).toMatchObject({ isError: true })
    const own = await call('browser_navigation', { url: `${site.base}/workspace/${context.sessionId}/index.html` })
    expect(own.output).toContain('A deployed page: lynx')
    // A page elsewhere cannot make the browser call the API either (an image, a fetch).
    const page = path.join(context.workspaceDir, 'probe.html')
    await writeFile(
      page,
      `<img src="${site.base}/api/probe.png"><script>fetch('${site.base}/api/fetch').catch(() => {})</script>`,
    )
    await call('browser_navigation', { url: pathToFileURL(page).href })
    expect(site.seen).toEqual([`/workspace/${context.sessionId}/index.html`])
    // A redirect from another server is followed by chromium without asking the guard (playwright routes only
    // the first address), so the hop reaches the server, but the page it leads to is refused, not shown.
    const elsewhere = await startFakeSite()
    try {
      const hop = `${elsewhere.base}/redirect?to=${encodeURIComponent(`${site.base}/api/redirected`)}`
      const redirected = await call('browser_navigation', { url: hop })
      expect(redirected).toMatchObject({ isError: true })
      expect(redirected.output).toContain('The page was redirected to a refused address. Refused')
      expect(redirected.output).toContain("that is berth's own server")
      const after = await call('browser_wait')
      expect(after.output).toContain('URL: about:blank')
    } finally {
      await elsewhere.close()
    }
  })

  it('keeps to public addresses unless private ones are allowed', async () => {
    const { call } = await setup({ allowPrivate: false })
    const refused = await call('browser_navigation', { url: `${site.base}/second` })
    expect(refused).toMatchObject({ isError: true })
    expect(refused.output).toContain('a local or private network address')
    const allowed = await setup({ allowPrivate: false, allowAddress: (address) => address === '127.0.0.1' })
    expect((await allowed.call('browser_navigation', { url: `${site.base}/second` })).output).toContain('puffin')
  })

  it('opens workspace files but no file: outside the workspace, also not through a symlink or from a page', async () => {
    const { context, call } = await setup()
    await mkdir(context.outside, { recursive: true })
    const secret = path.join(context.outside, 'secret.png')
    await writeFile(secret, PNG_1PX)
    await writeFile(path.join(context.workspaceDir, 'inside.png'), PNG_1PX)
    await symlink(secret, path.join(context.workspaceDir, 'link.png'))
    const probe = (src: string) =>
      `<img src="${src}" onload="document.body.append(' LOADED:${path.basename(src)}')" onerror="document.body.append(' BLOCKED:${path.basename(src)}')">`
    await writeFile(
      path.join(context.workspaceDir, 'page.html'),
      `<title>Local</title><p>Workspace page</p>${probe(pathToFileURL(secret).href)}${probe('inside.png')}${probe('link.png')}`,
    )
    const local = await call('browser_navigation', { url: '/workspace/page.html' })
    expect(local.output).toContain('Workspace page')
    expect(local.output).toContain('LOADED:inside.png')
    expect(local.output).toContain('BLOCKED:secret.png')
    expect(local.output).toContain('BLOCKED:link.png')
    const outside = await call('browser_navigation', { url: pathToFileURL(secret).href })
    expect(outside).toMatchObject({ isError: true })
    expect(outside.output).toContain('outside the workspace')
    const scheme = await call('browser_navigation', { url: 'chrome://version' })
    expect(scheme).toMatchObject({ isError: true })
  })

  it('caps concurrent browsers with a clear error, frees the slot on dispose, and closes an idle one', async () => {
    const small = new BrowserPool({ executablePath: CHROMIUM, maxContexts: 1, lingerMs: 100 })
    try {
      const first = await setup({ pool: small, idleMs: 60_000 })
      const second = await setup({ pool: small })
      expect((await first.call('browser_navigation', { url: `${site.base}/second` })).isError).toBeUndefined()
      const refused = await second.call('browser_navigation', { url: `${site.base}/second` })
      expect(refused).toMatchObject({ isError: true })
      expect(refused.output).toContain('All 1 browsers are in use by other sessions')
      await first.context.resources.dispose()
      expect((await second.call('browser_navigation', { url: `${site.base}/second` })).output).toContain('puffin')
      expect(small.openContexts).toBe(1)
      const idle = await setup({ pool: small, idleMs: 200 })
      await second.context.resources.dispose()
      await idle.call('browser_navigation', { url: `${site.base}/second` })
      expect(small.openContexts).toBe(1)
      await new Promise((resolve) => setTimeout(resolve, 700))
      expect(small.openContexts).toBe(0)
    } finally {
      await small.close()
    }
  })

  it('a chromium that dies is an error for its sessions, and the next call starts a new one', async () => {
    // With a linger, only the 'disconnected' event tells the pool that its chromium is gone.
    const own = new BrowserPool({ executablePath: CHROMIUM, maxContexts: 2, lingerMs: 60_000 })
    try {
      const before = await chromiumMainPids()
      const a = await setup({ pool: own })
      const b = await setup({ pool: own })
      await a.call('browser_navigation', { url: `${site.base}/second` })
      await b.call('browser_navigation', { url: `${site.base}/form` })
      const [main] = [...(await chromiumMainPids())].filter((pid) => !before.includes(pid))
      process.kill(main as number, 'SIGKILL')
      for (let i = 0; i < 100 && own.openContexts > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(own.openContexts).toBe(0)
      for (const session of [a, b]) {
        const again = await session.call('browser_navigation', { url: `${site.base}/second` })
        expect(again.isError, again.output).toBeUndefined()
        expect(again.output).toContain('puffin')
      }
      expect(await chromiumMainPids()).not.toContain(main)
    } finally {
      await own.close()
    }
  })

  it('lets the process exit once the sessions are disposed (chromium closes with the last context)', async () => {
    const script = `
      import { BrowserPool } from ${JSON.stringify(fileURLToPath(new URL('../../src/tools/browser/browser-pool.ts', import.meta.url)))}
      const pool = new BrowserPool({ executablePath: ${JSON.stringify(CHROMIUM)}, maxContexts: 1 })
      const context = await pool.newContext({})
      const page = await context.newPage()
      await page.goto(${JSON.stringify(`${site.base}/second`)})
      await context.close()
      console.log('closed')`
    const started = Date.now()
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', TSX_IMPORT, '--input-type=module', '-e', script],
      {
        timeout: 20_000,
      },
    )
    expect(stdout.trim()).toBe('closed')
    expect(Date.now() - started).toBeLessThan(10_000)
  })
})

/** The chromium browser processes (not renderers or helpers) this test process started. */
async function chromiumMainPids(): Promise<number[]> {
  const found: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    if (parent !== process.pid) continue
    const args = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
    if (args.includes('chromium') && !args.includes('--type=')) found.push(Number(entry))
  }
  return found
}

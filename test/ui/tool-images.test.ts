import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../helpers/berth-server.js'
import { PNG_1PX } from '../helpers/images.js'
import { ensureWebBuild, launchChromium, screenshot } from './browser.js'

// Globals of the functions that run in the page (this project compiles without the DOM library).
declare const document: any

let t: TestServer
let browser: Browser

beforeAll(async () => {
  const [, server, launched] = await Promise.all([
    process.env.BERTH_UI_BUILD ? Promise.resolve() : ensureWebBuild(),
    mkdtemp(join(tmpdir(), 'berth-ui-images-')).then((root) => startTestServer(root)),
    process.env.BERTH_UI_BUILD ? launchForOtherBuild() : launchChromium(),
  ])
  t = server
  browser = launched
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await t?.stop()
  if (t) await rm(t.root, { recursive: true, force: true })
})

/**
 * Chromium as `launchChromium` starts it, allowed to reach the loopback
 * server from a page whose document the test itself supplied (chromium's
 * local-network checks treat such a page as public).
 */
function launchForOtherBuild(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-features=LocalNetworkAccessChecks'],
  })
}

/**
 * A browser context on the test server. With BERTH_UI_BUILD set to a Vite
 * build folder, the page's UI files come from there instead of dist/web
 * (API, socket and files still from the server), so the UI can be checked
 * without rebuilding the shared dist/.
 */
async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 } })
  context.setDefaultTimeout(10_000)
  const build = process.env.BERTH_UI_BUILD
  if (build) {
    await context.route(
      (url) => url.origin === t.server.url && /^\/(assets\/|session\/|share\/|$)/.test(url.pathname),
      async (route) => {
        const { pathname } = new URL(route.request().url())
        const asset = pathname.startsWith('/assets/')
        const body = await readFile(join(build, asset ? pathname : 'index.html'))
        const type = !asset ? 'text/html' : pathname.endsWith('.css') ? 'text/css' : 'text/javascript'
        await route.fulfill({ status: 200, body, contentType: type })
      },
    )
  }
  return context
}

/** The card's image once it has loaded: its decoded size, or null while it is not there. */
async function shownImage(page: Page, tool: string) {
  const card = page.locator(`.tool-card[data-tool="${tool}"]`)
  await card.locator('.tool-image img').waitFor()
  await page.waitForFunction(() => document.querySelector('.tool-image img')?.complete === true)
  return card.locator('.tool-image img').evaluate((img: any) => ({
    width: img.naturalWidth as number,
    height: img.naturalHeight as number,
    src: String(img.src).slice(0, 22),
    caption: img.closest('figure')?.querySelector('figcaption')?.textContent as string,
  }))
}

describe('images from tools in the web UI (real chromium)', () => {
  it('shows a display_image result in the chat card, and again in the shared replay', async () => {
    t.llm.enqueue(
      {
        text: 'I will draw a dot and look at it.',
        toolCalls: [
          {
            id: 'call_draw',
            name: 'bash',
            arguments: { command: `echo ${PNG_1PX.toString('base64')} | base64 -d > dot.png && echo drawn` },
          },
        ],
      },
      { toolCalls: [{ id: 'call_show', name: 'display_image', arguments: { image_path: 'dot.png' } }] },
      { text: 'It is one dot.' },
    )
    const owner = await newContext()
    const page = await owner.newPage()
    await page.goto(`${t.server.url}/`)
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('Draw a dot and look at it')
    await page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter')
    await page.getByText('It is one dot.').waitFor()

    // The model was shown the image's exact bytes.
    expect(JSON.stringify(t.llm.requests.at(-1)?.body.messages)).toContain(PNG_1PX.toString('base64'))
    const card = page.locator('.tool-card[data-tool="display_image"]')
    expect(await card.getAttribute('data-status')).toBe('done')
    expect(await shownImage(page, 'display_image')).toEqual({
      width: 1,
      height: 1,
      src: 'data:image/png;base64,',
      caption: 'dot.png',
    })
    await screenshot(page, 'tool-image-chat')

    // A reload rebuilds the card from the log (the path) and the workspace (the bytes).
    await page.reload()
    expect((await shownImage(page, 'display_image')).width).toBe(1)

    const sessionId = page.url().split('/').pop() ?? ''
    const device = (await owner.cookies()).find((c) => c.name === 'device_id')?.value ?? ''
    const made = await fetch(`${t.server.url}/api/sessions/${sessionId}/share`, {
      method: 'POST',
      headers: { 'x-device-id': device, 'content-type': 'application/json' },
      body: '{}',
    })
    const token = ((await made.json()) as { share: { token: string } }).share.token
    await owner.close()

    // Another browser, with no device of the session: only the share link's file route can give it the image.
    const viewer = await newContext()
    const shared = await viewer.newPage()
    await shared.goto(`${t.server.url}/share/${token}`)
    await shared.getByText('It is one dot.').waitFor({ timeout: 15_000 })
    expect((await shownImage(shared, 'display_image')).width).toBe(1)
    await screenshot(shared, 'tool-image-shared')
    await viewer.close()
  })
})

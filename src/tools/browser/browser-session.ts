import { realpath } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { BrowserContext, Download, Page, Response } from 'playwright-core'
import { BerthError, isBerthError } from '../../core/errors.js'
import type { ToolContext, ToolResult } from '../tool.js'
import { saveToolImage } from '../tool-images.js'
import type { AddressPolicy } from '../web/address-guard.js'
import { BROWSER_USER_AGENT } from '../web/safe-fetch.js'
import type { BrowserPool } from './browser-pool.js'
import { type DownloadLimits, keepDownload, keepPdfResponse } from './downloads.js'
import { formatReport, type PageReport } from './page-report.js'
import {
  domQuietScript,
  drawMarksScript,
  type ElementScan,
  FIND_ELEMENTS_SCRIPT,
  type InteractiveElement,
  PAGE_TEXT_SCRIPT,
  REMOVE_MARKS_SCRIPT,
} from './page-scripts.js'
import { RequestGuard } from './request-guard.js'

/** The reference's viewport, so coordinates in replayed reference sessions land on the same spots. */
export const VIEWPORT = { width: 1268, height: 951 }

export interface BrowserSessionOptions {
  pool: BrowserPool
  /** BERTH_PORT: requests to berth's own server are refused (request-guard.ts). */
  serverPort: number
  /** BERTH_WEB_ALLOW_PRIVATE. */
  allowPrivate: boolean
  /** Without allowPrivate: which addresses may be reached (tests narrow it). */
  allowAddress?: AddressPolicy
  /** BERTH_BROWSER_IDLE, ms: the context is closed this long after the last call. */
  idleMs: number
  /** BERTH_BROWSER_TIMEOUT, ms: how long a navigation may take. */
  navigationTimeoutMs: number
  /** Page text handed to the model per step; default 8,000 characters. */
  textChars?: number
  /** Largest download kept in the workspace; default 100 MiB. */
  maxDownloadBytes?: number
}

/** How long the DOM must stay unchanged (and no request be in flight) before a step is captured. */
const QUIET_MS = 120
/** The longest a step waits for the page to settle after its action. */
const SETTLE_CAP_MS = 3_000
const DEFAULT_TEXT_CHARS = 8_000
const DEFAULT_MAX_DOWNLOAD = 100 * 1024 ** 2

/**
 * One session's browser: an isolated context of the shared chromium
 * (browser-pool.ts), its tabs and the elements last marked. Started on the
 * first browser_* call, closed after `idleMs` without one and when the
 * session's resources are disposed. A crashed tab or a chromium that died is
 * reported as a tool error and replaced on the next call.
 */
export class BrowserSession {
  private context: BrowserContext | null = null
  private opening: Promise<BrowserContext> | null = null
  private current: Page | null = null
  private guard: RequestGuard | null = null
  private guardKey = ''
  private tool: ToolContext | null = null
  private idleTimer: NodeJS.Timeout | null = null
  private busy = 0
  private shots = 0
  private readonly inflight = new WeakMap<Page, number>()
  private readonly crashed = new WeakSet<Page>()
  private pendingDownloads: Promise<string>[] = []
  /** Why the guard refused the last request, to explain a blocked navigation. */
  private lastRefusal: string | null = null
  /** The elements last numbered on the current page (for the select tools' indices). */
  elements: InteractiveElement[] = []

  constructor(readonly options: BrowserSessionOptions) {}

  /**
   * Run one tool step: keep the context alive meanwhile, turn playwright's
   * failures into errors written for the model.
   */
  async step(context: ToolContext, action: (page: Page) => Promise<ToolResult>): Promise<ToolResult> {
    this.busy++
    this.tool = context
    try {
      const page = await this.page(context)
      const done = action(page).catch((error: unknown) => {
        throw this.explain(error, page)
      })
      return await untilAborted(done, context.signal)
    } finally {
      this.busy--
      this.armIdle()
    }
  }

  /** The current tab, opening the context or a fresh tab when needed. */
  async page(context: ToolContext): Promise<Page> {
    const browserContext = await this.ensureContext(context)
    if (this.current !== null && !this.current.isClosed() && !this.crashed.has(this.current)) return this.current
    const open = browserContext.pages().filter((p) => !p.isClosed() && !this.crashed.has(p))
    this.current = open.at(-1) ?? (await browserContext.newPage())
    return this.current
  }

  tabs(): Page[] {
    return this.context?.pages().filter((p) => !p.isClosed()) ?? []
  }

  setCurrent(page: Page): void {
    this.current = page
  }

  async openTab(context: ToolContext): Promise<Page> {
    const browserContext = await this.ensureContext(context)
    this.current = await browserContext.newPage()
    return this.current
  }

  /** browser_restart: a new context (cookies, storage and tabs gone). */
  async restart(context: ToolContext): Promise<Page> {
    await this.closeContext()
    return this.page(context)
  }

  /** Close the context (idle, restart, session disposed). */
  async closeContext(): Promise<void> {
    const context = this.context ?? (await this.opening?.catch(() => null)) ?? null
    this.context = null
    this.opening = null
    this.current = null
    this.elements = []
    await context?.close().catch(() => {})
  }

  async dispose(): Promise<void> {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer)
    this.idleTimer = null
    await this.closeContext()
  }

  /**
   * Go to `url` and wait for its document (domcontentloaded, then the
   * settle of `capture`). Returns the main response, or null when the
   * address started a download instead of a page.
   */
  async navigate(page: Page, url: string): Promise<Response | null> {
    const verdict = await this.guard?.check(url)
    if (verdict) throw new BerthError('WEB_REQUEST_FAILED', verdict, { details: { url } })
    this.lastRefusal = null
    try {
      return await page.goto(url, { waitUntil: 'domcontentloaded', timeout: this.options.navigationTimeoutMs })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      if (message.includes('Download is starting')) return null
      if (isTimeout(error)) {
        throw new BerthError(
          'TOOL_FAILED',
          `Timeout: ${url} did not load within ${Math.round(this.options.navigationTimeoutMs / 1000)} s. ` +
            'The browser is still usable: try again, or another address.',
          { details: { url } },
        )
      }
      if (message.includes('ERR_BLOCKED_BY_CLIENT') && this.lastRefusal !== null) {
        throw new BerthError('WEB_REQUEST_FAILED', this.lastRefusal, { details: { url } })
      }
      throw error
    }
  }

  /**
   * playwright's route handler sees only the first address of a request that
   * is redirected (https://playwright.dev/docs/api/class-route), so a
   * redirect can lead a page or a frame to an address the guard refuses.
   * Before a step shows anything, every frame's address is checked again: a
   * refused main page is left for about:blank and reported, a refused frame
   * is taken out of its page. (The request itself was made; what it
   * answered is not shown to the model.)
   */
  private async checkFrames(page: Page): Promise<void> {
    const guard = this.guard
    if (guard === null) return
    for (const frame of page.frames()) {
      // Only addresses a redirect can lead to; chromium's own frames (the PDF viewer's chrome-extension:) stay.
      if (!/^(https?|file):/i.test(frame.url())) continue
      const verdict = await guard.check(frame.url()).catch(() => 'The address could not be checked.')
      if (!verdict) continue
      if (frame === page.mainFrame()) {
        await page.goto('about:blank').catch(() => {})
        throw new BerthError('WEB_REQUEST_FAILED', `The page was redirected to a refused address. ${verdict}`)
      }
      const element = await frame.frameElement().catch(() => null)
      await element?.evaluate((node) => node.remove()).catch(() => {})
    }
  }

  /**
   * Wait until the page settles: its load event, then no DOM change for a
   * moment and no request in flight (pages that write their text by script
   * after load), at most `capMs`.
   */
  async settle(page: Page, capMs = SETTLE_CAP_MS): Promise<void> {
    const deadline = Date.now() + capMs
    for (;;) {
      const left = deadline - Date.now()
      if (left <= 0 || page.isClosed() || this.crashed.has(page)) return
      try {
        await page.waitForLoadState('load', { timeout: left })
        await page.evaluate(domQuietScript(QUIET_MS, Math.max(QUIET_MS, deadline - Date.now())))
        if ((this.inflight.get(page) ?? 0) === 0) return
        await sleep(50)
      } catch (error) {
        if (isTimeout(error)) return
        // A navigation replaced the document under the script: wait for the new one.
        await sleep(50)
      }
    }
  }

  /**
   * The step's result: a screenshot kept in the workspace (with the
   * elements boxed and numbered when `marks`), the page's URL, title,
   * tabs and text, and notes on downloads.
   */
  async capture(
    page: Page,
    context: ToolContext,
    message: string,
    opts: { marks?: boolean } = {},
  ): Promise<ToolResult> {
    await this.settle(page)
    await this.checkFrames(page)
    const downloads = await this.collectDownloads()
    const scan = await page.evaluate(FIND_ELEMENTS_SCRIPT).catch(() => null)
    const elementScan = (scan as ElementScan | null) ?? {
      elements: [],
      viewport: { ...VIEWPORT, scrollY: 0, scrollHeight: VIEWPORT.height },
    }
    this.elements = elementScan.elements
    let shot: Buffer
    if (opts.marks === true && this.elements.length > 0) {
      await page.evaluate(drawMarksScript(this.elements))
      try {
        shot = await this.screenshot(page)
      } finally {
        await page.evaluate(REMOVE_MARKS_SCRIPT).catch(() => {})
      }
    } else {
      shot = await this.screenshot(page)
    }
    const text = (await page.evaluate(PAGE_TEXT_SCRIPT).catch(() => null)) as { text: string } | null
    const tabs = await Promise.all(
      this.tabs().map(async (tab) => ({
        title: await tab.title().catch(() => ''),
        url: tab.url(),
        current: tab === page,
      })),
    )
    const image = await saveToolImage(context, `browser/screenshots/${this.shotName()}.jpg`, shot)
    const report: PageReport = {
      message,
      url: page.url(),
      title: await page.title().catch(() => ''),
      tabs,
      viewport: elementScan.viewport,
      text: text?.text ?? '',
      downloads,
      elementCount: this.elements.length,
      ...(opts.marks === true ? { elements: this.elements } : {}),
    }
    return { output: formatReport(report, this.options.textChars ?? DEFAULT_TEXT_CHARS), images: [image] }
  }

  /** A PDF opened as a page: kept under downloads/ and its text read (downloads.ts). */
  async readPdfResponse(response: Response, context: ToolContext): Promise<string | null> {
    return keepPdfResponse(response, context, this.guard, this.downloadLimits())
  }

  private async ensureContext(context: ToolContext): Promise<BrowserContext> {
    const workspaceDir = await realpath(context.workspaceDir)
    // The guard follows the run's public URL (it can differ per run); kept otherwise, with its lookups.
    const key = `${context.sessionId}\n${workspaceDir}\n${context.publicUrl}`
    if (this.guard === null || this.guardKey !== key) {
      this.guard = new RequestGuard({
        sessionId: context.sessionId,
        workspaceDir,
        publicUrl: context.publicUrl,
        serverPort: this.options.serverPort,
        allowPrivate: this.options.allowPrivate,
        ...(this.options.allowAddress === undefined ? {} : { allowAddress: this.options.allowAddress }),
      })
      this.guardKey = key
    }
    if (this.context !== null) return this.context
    this.opening ??= this.openContext()
    try {
      this.context = await this.opening
      return this.context
    } finally {
      this.opening = null
    }
  }

  private async openContext(): Promise<BrowserContext> {
    const context = await this.options.pool.newContext({
      viewport: VIEWPORT,
      deviceScaleFactor: 1,
      userAgent: BROWSER_USER_AGENT,
      acceptDownloads: true,
      // Service workers would fetch outside context.route.
      serviceWorkers: 'block',
      ignoreHTTPSErrors: true,
    })
    try {
      await context.route('**/*', async (route) => {
        const verdict = await this.guard?.check(route.request().url()).catch(() => 'The address could not be checked.')
        if (verdict) {
          if (route.request().isNavigationRequest()) this.lastRefusal = verdict
          await route.abort('blockedbyclient').catch(() => {})
        } else {
          await route.continue().catch(() => {})
        }
      })
      await context.routeWebSocket(
        () => true,
        async (socket) => {
          const verdict = await this.guard?.check(socket.url()).catch(() => 'refused')
          if (verdict) await socket.close({ code: 1008, reason: 'refused by berth' })
          else socket.connectToServer()
        },
      )
      context.on('page', (page) => this.track(page))
      context.on('close', () => {
        if (this.context === context) {
          this.context = null
          this.current = null
        }
      })
      return context
    } catch (error) {
      await context.close().catch(() => {})
      throw error
    }
  }

  private track(page: Page): void {
    const count = (delta: number) => this.inflight.set(page, Math.max(0, (this.inflight.get(page) ?? 0) + delta))
    page.on('request', () => count(1))
    page.on('requestfinished', () => count(-1))
    page.on('requestfailed', () => count(-1))
    page.on('crash', () => {
      this.crashed.add(page)
      this.tool?.logger.warn({ part: 'browser', url: page.url() }, 'browser tab crashed')
      void page.close().catch(() => {})
    })
    page.on('download', (download) => {
      this.pendingDownloads.push(this.saveDownload(download))
    })
  }

  private async saveDownload(download: Download): Promise<string> {
    const context = this.tool
    if (context === null) return 'A download was dropped: no session to keep it in.'
    return keepDownload(download, context, this.downloadLimits())
  }

  private downloadLimits(): DownloadLimits {
    return {
      maxBytes: this.options.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD,
      textChars: this.options.textChars ?? DEFAULT_TEXT_CHARS,
      timeoutMs: this.options.navigationTimeoutMs,
    }
  }

  private async collectDownloads(): Promise<string[]> {
    if (this.pendingDownloads.length === 0) return []
    const pending = this.pendingDownloads
    this.pendingDownloads = []
    const cap = sleep(this.options.navigationTimeoutMs).then(() => 'A download is still running; it was not saved.')
    return Promise.all(pending.map((note) => Promise.race([note, cap])))
  }

  private async screenshot(page: Page): Promise<Buffer> {
    // JPEG: a full viewport is ~50-200 KB, far under the 3.75 MB a model takes per image.
    return page.screenshot({ type: 'jpeg', quality: 70, timeout: 15_000 })
  }

  private shotName(): string {
    // Unique across restarts: the history attaches old steps' screenshots by their paths.
    this.shots++
    return `${Date.now().toString(36)}-${this.shots}`
  }

  private armIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null
      if (this.busy > 0) return this.armIdle()
      void this.closeContext()
    }, this.options.idleMs)
    this.idleTimer.unref()
  }

  /** Playwright's errors in words the model can act on; the session stays usable. */
  private explain(error: unknown, page: Page): unknown {
    if (isBerthError(error)) return error
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
    if (this.crashed.has(page) || /crash/i.test(message)) {
      this.current = null
      return new BerthError(
        'TOOL_FAILED',
        'The browser tab crashed (the page may be too heavy). The next browser call opens a fresh tab; ' +
          'navigate again to continue.',
        { cause: error },
      )
    }
    if (/has been closed|Target closed|browser has disconnected/i.test(message)) {
      this.current = null
      return new BerthError(
        'TOOL_FAILED',
        'The browser tab or the browser closed during this step. The next browser call opens a new one.',
        { cause: error },
      )
    }
    if (isTimeout(error)) {
      return new BerthError('TOOL_FAILED', `The page did not respond in time: ${message}`, { cause: error })
    }
    return new BerthError('TOOL_FAILED', `Browser step failed: ${message}`, { cause: error })
  }
}

/**
 * The step's outcome, or `TOOL_ABORTED` as soon as the run is cancelled, so
 * a step stuck in a slow page ends with the run (the tab stays; the next
 * step can use it).
 */
async function untilAborted<T>(step: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort = () => {}
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new BerthError('TOOL_ABORTED', 'The browser step was stopped: the run was cancelled.'))
  })
  if (signal.aborted) onAbort()
  else signal.addEventListener('abort', onAbort, { once: true })
  // The step may still fail after the abort won; that failure is nobody's to handle.
  step.catch(() => {})
  try {
    return await Promise.race([step, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** playwright's TimeoutError, told by its name so playwright-core need not be loaded with this module. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError'
}

import { existsSync } from 'node:fs'
import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core'
import { BerthError } from '../../core/errors.js'
import type { Logger } from '../../logging/logger.js'

export interface BrowserPoolOptions {
  /** BERTH_BROWSER_PATH: Debian's chromium; never a downloaded browser. */
  executablePath: string
  /** BERTH_BROWSER_MAX_SESSIONS: contexts open at once. */
  maxContexts: number
  /**
   * How long chromium stays up after its last context closed; default 0. A
   * running chromium keeps Node's event loop alive, so with a linger the
   * server would wait that long to exit after a shutdown closed every
   * session; starting chromium again costs about a second.
   */
  lingerMs?: number
  logger?: Logger
}

/** Flags that work in containers and keep chromium from calling home (as test/ui/browser.ts). */
const LAUNCH_ARGS = [
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--mute-audio',
  // No renderer started ahead of need: sessions come and go, and a spare one is memory held for nothing.
  '--disable-features=SpareRendererForSitePerProcess',
]

/**
 * One chromium process shared by every session, each session in its own
 * context (separate cookies, storage and cache). Started on the first
 * context, closed with the last one; a chromium that dies is
 * started again on the next request. At most `maxContexts` at once: one more
 * gets `BROWSER_UNAVAILABLE` with a message the model can act on.
 *
 * @example
 *   const pool = new BrowserPool({ executablePath: '/usr/bin/chromium', maxContexts: 4 })
 *   const context = await pool.newContext({ viewport: { width: 1268, height: 951 } })
 *   await context.close()   // frees the slot
 */
export class BrowserPool {
  private browser: Promise<Browser> | null = null
  private open = 0
  private lingerTimer: NodeJS.Timeout | null = null

  constructor(private readonly options: BrowserPoolOptions) {}

  /** Contexts open now. */
  get openContexts(): number {
    return this.open
  }

  async newContext(contextOptions: BrowserContextOptions): Promise<BrowserContext> {
    if (this.open >= this.options.maxContexts) {
      throw new BerthError(
        'BROWSER_UNAVAILABLE',
        `All ${this.options.maxContexts} browsers are in use by other sessions (BERTH_BROWSER_MAX_SESSIONS). ` +
          'Try again later, or use visit_webpage to read a page without a browser.',
        { details: { limit: this.options.maxContexts } },
      )
    }
    this.open++
    this.cancelLinger()
    try {
      const browser = await this.launch()
      const context = await browser.newContext(contextOptions)
      context.once('close', () => this.release())
      return context
    } catch (error) {
      this.release()
      throw error
    }
  }

  /** Close chromium now (server shutdown, tests); contexts still open are closed with it. */
  async close(): Promise<void> {
    this.cancelLinger()
    const browser = this.browser
    this.browser = null
    await (await browser?.catch(() => null))?.close()
  }

  private launch(): Promise<Browser> {
    if (this.browser !== null) return this.browser
    const { executablePath } = this.options
    if (!existsSync(executablePath)) {
      throw new BerthError(
        'BROWSER_UNAVAILABLE',
        `No browser is installed at ${executablePath} (BERTH_BROWSER_PATH); the operator can install chromium.`,
      )
    }
    const started = this.start(executablePath)
      .then((browser) => {
        browser.on('disconnected', () => {
          // A crashed or killed chromium: the next context starts a new one.
          if (this.browser === started) this.browser = null
          this.options.logger?.warn({ part: 'browser' }, 'chromium exited')
        })
        return browser
      })
      .catch((error: unknown) => {
        if (this.browser === started) this.browser = null
        throw new BerthError(
          'BROWSER_UNAVAILABLE',
          `The browser (${executablePath}) failed to start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
          { cause: error },
        )
      })
    this.browser = started
    return started
  }

  /**
   * chromium's own sandbox keeps a page that exploits a renderer inside it;
   * it needs user namespaces and refuses to run as root. Tried first when
   * berth is not root (the Docker image runs as `berth`); without it,
   * chromium runs unsandboxed and that is logged once per start.
   */
  private async start(executablePath: string): Promise<Browser> {
    // playwright-core is loaded on first use: importing it costs ~0.5 s of start-up for every berth command.
    const { chromium } = await import('playwright-core')
    const launch = (chromiumSandbox: boolean) =>
      chromium.launch({ executablePath, args: LAUNCH_ARGS, headless: true, chromiumSandbox })
    if (process.getuid?.() !== 0) {
      try {
        return await launch(true)
      } catch (error) {
        this.options.logger?.warn({ part: 'browser', err: error }, "chromium's sandbox is unavailable here")
      }
    }
    this.options.logger?.info({ part: 'browser' }, 'chromium runs without its own sandbox')
    return launch(false)
  }

  private release(): void {
    this.open = Math.max(0, this.open - 1)
    if (this.open > 0 || this.browser === null) return
    this.cancelLinger()
    const linger = this.options.lingerMs ?? 0
    if (linger <= 0) {
      void this.close().catch(() => {})
      return
    }
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = null
      if (this.open === 0) void this.close().catch(() => {})
    }, linger)
    this.lingerTimer.unref()
  }

  private cancelLinger(): void {
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer)
    this.lingerTimer = null
  }
}

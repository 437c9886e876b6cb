import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type Browser, chromium, type Page } from 'playwright-core'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/ui/', import.meta.url))
const CHROMIUM = '/usr/bin/chromium'

/**
 * Debian's chromium, headless (never a downloaded browser). Fails with the
 * install command when it is missing, rather than skipping silently.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The browser tests need Debian's chromium at ${CHROMIUM}: apt-get install -y chromium`)
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/** `npm test` builds first; run directly, a missing UI build is made here (about 5 s). */
export async function ensureWebBuild(): Promise<void> {
  if (existsSync(`${ROOT}dist/web/index.html`)) return
  await promisify(execFile)(
    process.execPath,
    ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts'],
    {
      cwd: ROOT,
    },
  )
}

/** A screenshot under test-artifacts/ui/ (gitignored), for people to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: `${ARTIFACTS}${name}.png` })
}

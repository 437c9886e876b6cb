import { existsSync } from 'node:fs'
import { SETTINGS } from '../../config/settings.js'
import type { Logger } from '../../logging/logger.js'
import type { AnyTool } from '../run-tool.js'
import { BrowserPool } from './browser-pool.js'
import { createBrowserTools } from './browser-tools.js'

/** The settings the browser tools read; `BerthConfig` satisfies it. */
export interface BrowserConfig {
  /** BERTH_BROWSER_PATH. */
  browserPath: string
  /** BERTH_BROWSER_MAX_SESSIONS. */
  browserMaxSessions: number
  /** BERTH_BROWSER_IDLE, seconds. */
  browserIdle: number
  /** BERTH_BROWSER_TIMEOUT, seconds. */
  browserTimeout: number
  /** BERTH_PORT: the browser may not call berth's own API. */
  port: number
  /** BERTH_WEB_ALLOW_PRIVATE. */
  webAllowPrivate?: boolean | undefined
}

/**
 * The 13 browser_* tools over one shared chromium, or none when no browser
 * is installed at BERTH_BROWSER_PATH (the model is then not offered tools
 * that cannot work).
 *
 * @example
 *   const tools = [...otherTools, ...browserToolsFor(config)]
 */
export function browserToolsFor(partial: Partial<BrowserConfig>, options: { logger?: Logger } = {}): AnyTool[] {
  const config = { ...BROWSER_DEFAULTS, ...definedOnly(partial) }
  if (!existsSync(config.browserPath)) return []
  const pool = new BrowserPool({
    executablePath: config.browserPath,
    maxContexts: config.browserMaxSessions,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  })
  return createBrowserTools({
    pool,
    serverPort: config.port,
    allowPrivate: config.webAllowPrivate ?? false,
    idleMs: config.browserIdle * 1000,
    navigationTimeoutMs: config.browserTimeout * 1000,
  })
}

/** The settings' defaults, for toolsets built from a partial config (tests, scripts). */
const BROWSER_DEFAULTS: BrowserConfig = {
  browserPath: SETTINGS.browserPath.default,
  browserMaxSessions: SETTINGS.browserMaxSessions.default,
  browserIdle: SETTINGS.browserIdle.default,
  browserTimeout: SETTINGS.browserTimeout.default,
  port: SETTINGS.port.default,
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import type { Page } from 'playwright-core'
import { z } from 'zod'
import { BerthError } from '../../core/errors.js'
import type { AnyTool } from '../run-tool.js'
import { defineTool, type ToolContext, type ToolResult } from '../tool.js'
import { resolveToolPath } from '../workspace-path.js'
import { BrowserSession, type BrowserSessionOptions } from './browser-session.js'
import { opensNewWindowScript, selectOptionScript, selectOptionsScript } from './page-scripts.js'

const RESOURCE_KEY = 'browser.session'

/** The session's browser, made on first use and closed with the session's resources. */
export function browserSessionOf(context: ToolContext, options: BrowserSessionOptions): BrowserSession {
  return context.resources.get(
    RESOURCE_KEY,
    () => new BrowserSession(options),
    (session) => session.dispose(),
  )
}

const noInput = z.object({})
const urlInput = (what: string) => z.object({ url: z.string().min(1).describe(what) })
const indexInput = (what: string) => z.object({ index: z.coerce.number().int().min(0).describe(what) })

/**
 * The reference's 13 browser tools, with its names and parameters. Each
 * result carries a screenshot (an image part kept under
 * browser/screenshots/) and, for models without vision, the page's URL,
 * title, tabs and rendered text (browser-session.ts `capture`).
 *
 * @example
 *   const tools = createBrowserTools({ pool, serverPort: 8000, allowPrivate: false, idleMs: 300_000, navigationTimeoutMs: 30_000 })
 */
export function createBrowserTools(options: BrowserSessionOptions): AnyTool[] {
  const session = (context: ToolContext) => browserSessionOf(context, options)
  const step = (context: ToolContext, action: (s: BrowserSession, page: Page) => Promise<ToolResult>) => {
    const s = session(context)
    return s.step(context, (page) => action(s, page))
  }
  /** Before an action that may open a tab (a link with target=_blank, window.open): what is open now. */
  const watchTabs = (s: BrowserSession, page: Page, expectTab = false): TabWatch => ({
    before: s.tabs(),
    popup: page.waitForEvent('popup', { timeout: 5_000 }).catch(() => null),
    expectTab,
  })
  /** After it: switch to the tab it opened, as the reference does. */
  const followNewTab = async (
    s: BrowserSession,
    watch: TabWatch,
    page: Page,
  ): Promise<{ page: Page; note: string }> => {
    await s.settle(page, 1_500)
    let newest = s
      .tabs()
      .filter((tab) => !watch.before.includes(tab))
      .at(-1)
    // A popup can take a moment longer than the opener's settle to be attached; a link that names another
    // window (target=_blank) is given the popup's whole timeout, anything else a short grace.
    newest ??=
      (await (watch.expectTab ? watch.popup : Promise.race([watch.popup, sleep(250).then(() => null)]))) ?? undefined
    if (newest === undefined || newest.isClosed()) return { page, note: '' }
    s.setCurrent(newest)
    await newest.bringToFront().catch(() => {})
    return { page: newest, note: ' - a new tab opened; switched to it' }
  }
  const go = async (s: BrowserSession, page: Page, rawUrl: string, context: ToolContext): Promise<ToolResult> => {
    const url = await normalizeUrl(rawUrl, context)
    const response = await s.navigate(page, url)
    const pdf = response === null ? null : await s.readPdfResponse(response, context)
    // The PDF viewer draws after the document loads; give it a moment before the screenshot.
    if (pdf !== null) await sleep(1000)
    const message = response === null ? `${url} started a download.` : `Navigated to ${url}`
    return s.capture(page, context, pdf === null ? message : `${message}\n${pdf}`)
  }

  return [
    defineTool({
      name: 'browser_navigation',
      description: 'Navigate browser to specified URL',
      parameters: urlInput('Complete URL to visit. Must include protocol prefix.'),
      execute: (input, context) => step(context, (s, page) => go(s, page, input.url, context)),
    }),
    defineTool({
      name: 'browser_restart',
      description: 'Restart browser and navigate to specified URL',
      parameters: urlInput('Complete URL to visit after restart. Must include protocol prefix.'),
      async execute(input, context) {
        const s = session(context)
        await s.restart(context)
        return s.step(context, (page) => go(s, page, input.url, context))
      },
    }),
    defineTool({
      name: 'browser_click',
      description:
        'Click on an element on the current browser page, at the x,y position given for it by ' +
        'browser_view_interactive_elements (screenshot pixels).',
      parameters: z.object({
        coordinate_x: z.coerce.number().describe('X coordinate of click position'),
        coordinate_y: z.coerce.number().describe('Y coordinate of click position'),
      }),
      execute: (input, context) =>
        step(context, async (s, page) => {
          const watch = watchTabs(s, page, await opensNewWindow(page, input.coordinate_x, input.coordinate_y))
          await page.mouse.click(input.coordinate_x, input.coordinate_y)
          const next = await followNewTab(s, watch, page)
          return s.capture(
            next.page,
            context,
            `Clicked at coordinates ${input.coordinate_x}, ${input.coordinate_y}${next.note}`,
          )
        }),
    }),
    defineTool({
      name: 'browser_enter_text',
      description:
        'Enter text with a keyboard. Use it AFTER you have clicked on an input element. This action will override the current text in the element.',
      parameters: z.object({
        text: z.string().describe('Text to enter with a keyboard.'),
        press_enter: z
          .boolean()
          .optional()
          .describe(
            'If True, `Enter` button will be pressed after entering the text. Use this when you think it would make ' +
              "sense to press `Enter` after entering the text, such as when you're submitting a form, performing a search, etc.",
          ),
      }),
      execute: (input, context) =>
        step(context, async (s, page) => {
          const watch = watchTabs(s, page)
          await page.keyboard.press('ControlOrMeta+a')
          await page.keyboard.press('Backspace')
          await page.keyboard.type(input.text)
          if (input.press_enter === true) await page.keyboard.press('Enter')
          const next = await followNewTab(s, watch, page)
          return s.capture(
            next.page,
            context,
            `Entered "${input.text}" on the keyboard${input.press_enter === true ? ' and pressed Enter' : ''}. ` +
              `Make sure to double check that the text was entered to where you intended.${next.note}`,
          )
        }),
    }),
    defineTool({
      name: 'browser_press_key',
      description: 'Simulate key press in the current browser page',
      parameters: z.object({
        key: z
          .string()
          .min(1)
          .describe(
            'Key name to simulate (e.g., Enter, Tab, ArrowUp), supports key combinations (e.g., Control+Enter).',
          ),
      }),
      execute: (input, context) =>
        step(context, async (s, page) => {
          const watch = watchTabs(s, page)
          await page.keyboard.press(input.key).catch((error: unknown) => {
            throw new BerthError('TOOL_INPUT_INVALID', `Cannot press "${input.key}": ${firstLine(error)}`)
          })
          const next = await followNewTab(s, watch, page)
          return s.capture(next.page, context, `Pressed "${input.key}" on the keyboard.${next.note}`)
        }),
    }),
    scrollTool('browser_scroll_down', 'Scroll down the current browser page', 1, step),
    scrollTool('browser_scroll_up', 'Scroll up the current browser page', -1, step),
    defineTool({
      name: 'browser_wait',
      description: 'Wait for the page to load',
      parameters: noInput,
      execute: (_input, context) =>
        step(context, async (s, page) => {
          await sleep(1000)
          await s.settle(page, 10_000)
          return s.capture(page, context, 'Waited for page')
        }),
    }),
    defineTool({
      name: 'browser_view_interactive_elements',
      description:
        'Return the visible interactive elements on the current page: each with its index (also drawn on the ' +
        'screenshot) and the x,y position to click it at.',
      parameters: noInput,
      execute: (_input, context) =>
        step(context, (s, page) =>
          s.capture(page, context, 'Marked the interactive elements in view.', { marks: true }),
        ),
    }),
    defineTool({
      name: 'browser_switch_tab',
      description: 'Switch to a specific tab by tab index',
      parameters: indexInput('Index of the tab to switch to.'),
      execute: (input, context) =>
        step(context, async (s) => {
          const tabs = s.tabs()
          const tab = tabs[input.index]
          if (tab === undefined) {
            throw new BerthError(
              'TOOL_INPUT_INVALID',
              `No tab ${input.index}: ${tabs.length} tab(s) are open (indices 0-${tabs.length - 1}).`,
            )
          }
          s.setCurrent(tab)
          await tab.bringToFront()
          return s.capture(tab, context, `Switched to tab ${input.index}`)
        }),
    }),
    defineTool({
      name: 'browser_open_new_tab',
      description: 'Open a new tab (blank) in the browser and switch to it',
      parameters: noInput,
      async execute(_input, context) {
        const s = session(context)
        return s.step(context, async () => s.capture(await s.openTab(context), context, 'Opened a new tab'))
      },
    }),
    defineTool({
      name: 'browser_get_select_options',
      description:
        'Get all options from a <select> element. Use this action when you need to get all options from a dropdown.',
      parameters: indexInput('Index of the <select> element to get options from.'),
      execute: (input, context) =>
        step(context, async (s, page) => {
          const found = (await page.evaluate(selectOptionsScript(input.index))) as {
            tag: string
            options: { index: number; text: string; value: string }[]
          } | null
          checkSelect(found, input.index)
          const lines = found.options.map((option) => `${option.index}: option=${JSON.stringify(option.text)}`)
          lines.push(
            'If you decide to use this select element, use the exact option name in browser_select_dropdown_option',
          )
          return s.capture(page, context, lines.join('\n'))
        }),
    }),
    defineTool({
      name: 'browser_select_dropdown_option',
      description:
        'Select an option from a <select> element by the text (name) of the option. Use this after get_select_options and when you need to select an option from a dropdown.',
      parameters: z.object({
        index: z.coerce.number().int().min(0).describe('Index of the <select> element to select an option from.'),
        option: z.string().describe('Text (name) of the option to select from the dropdown.'),
      }),
      execute: (input, context) =>
        step(context, async (s, page) => {
          const result = (await page.evaluate(selectOptionScript(input.index, input.option))) as
            | { ok: true; value: string; index: number }
            | { ok: false; reason: 'gone' | 'not-select' | 'no-option'; tag?: string; available?: string[] }
          if (!result.ok) {
            if (result.reason === 'no-option') {
              throw new BerthError(
                'TOOL_INPUT_INVALID',
                `Option not found: ${input.option}. Available options: ${(result.available ?? []).join(', ')}`,
              )
            }
            checkSelect(result.reason === 'gone' ? null : { tag: result.tag ?? '?' }, input.index)
          }
          const chosen = result as { value: string; index: number }
          return s.capture(
            page,
            context,
            `Selected option '${input.option}' with value '${chosen.value}' at index ${chosen.index}`,
          )
        }),
    }),
  ]
}

interface TabWatch {
  before: Page[]
  popup: Promise<Page | null>
  /** The action is known to open a tab (a link with a target window), so its popup is waited for. */
  expectTab: boolean
}

/** Whether the element at a point is a link (or in a form) that opens another window. */
async function opensNewWindow(page: Page, x: number, y: number): Promise<boolean> {
  return (await page.evaluate(opensNewWindowScript(x, y)).catch(() => false)) === true
}

type Step = (
  context: ToolContext,
  action: (s: BrowserSession, page: Page) => Promise<ToolResult>,
) => Promise<ToolResult>

function scrollTool(name: string, description: string, direction: 1 | -1, step: Step): AnyTool {
  return defineTool({
    name,
    description,
    parameters: noInput,
    execute: (_input, context) =>
      step(context, async (s, page) => {
        const viewport = page.viewportSize() ?? { width: 1268, height: 951 }
        if (/\.pdf($|[?#])/i.test(page.url())) {
          // The PDF viewer scrolls by page keys, as in the reference.
          await page.keyboard.press(direction === 1 ? 'PageDown' : 'PageUp')
        } else {
          await page.mouse.move(viewport.width / 2, viewport.height / 2)
          await page.mouse.wheel(0, direction * viewport.height * 0.8)
        }
        await sleep(100)
        return s.capture(page, context, direction === 1 ? 'Scrolled page down' : 'Scrolled page up')
      }),
  })
}

function checkSelect(
  found: { tag: string } | null,
  index: number,
): asserts found is { tag: string; options: { index: number; text: string; value: string }[] } {
  if (found === null) {
    throw new BerthError(
      'TOOL_INPUT_INVALID',
      `No element found with index ${index}. Call browser_view_interactive_elements to number the elements again.`,
    )
  }
  if (found.tag !== 'select') {
    throw new BerthError('TOOL_INPUT_INVALID', `Element ${index} is not a select element, it's a ${found.tag}`)
  }
}

/**
 * http(s) as given (`example.com` gets https://); a file path or file: URL
 * becomes the file's URL inside the workspace (the reference's `/workspace/…`
 * paths included); anything outside is refused by the workspace's door.
 */
async function normalizeUrl(raw: string, context: ToolContext): Promise<string> {
  const text = raw.trim()
  if (text === 'about:blank') return text
  if (text.startsWith('/') || /^file:/i.test(text)) {
    let filePath = text
    if (/^file:/i.test(text)) {
      try {
        filePath = decodeURIComponent(new URL(text).pathname)
      } catch {
        throw new BerthError('TOOL_INPUT_INVALID', `Not a valid file address: ${raw}`)
      }
    }
    const { absolute } = await resolveToolPath(context, filePath)
    return pathToFileURL(absolute).href
  }
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(text) ? text : `https://${text}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new BerthError(
      'TOOL_INPUT_INVALID',
      `Not a valid address: ${raw}. Give a full URL such as https://example.com.`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BerthError(
      'TOOL_INPUT_INVALID',
      `${url.protocol} addresses cannot be opened; use http(s) or a workspace file.`,
    )
  }
  return url.href
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}

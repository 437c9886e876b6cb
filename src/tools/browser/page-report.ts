import type { InteractiveElement } from './page-scripts.js'

/** What one browser step shows the model besides the screenshot: enough to work without vision. */
export interface PageReport {
  message: string
  url: string
  title: string
  tabs: { title: string; url: string; current: boolean }[]
  viewport: { width: number; height: number; scrollY: number; scrollHeight: number }
  /** The page's rendered text (document.body.innerText). */
  text: string
  /** Notes about downloads this step caused. */
  downloads: string[]
  /** Listed only by browser_view_interactive_elements. */
  elements?: InteractiveElement[]
  elementCount: number
}

/**
 * The text part of a browser tool's result. The page text is cut to `maxChars`; when it is longer, the
 * window starts where the viewport is (by the scroll position's share of the page), so scrolling down
 * shows the model later text too.
 *
 * @example
 *   formatReport({ message: 'Navigated to https://example.com', url, title, ... }, 8000)
 */
export function formatReport(report: PageReport, maxChars: number): string {
  const lines = [report.message, '', `URL: ${report.url}`, `Title: ${report.title || '(none)'}`]
  if (report.tabs.length > 1) {
    lines.push('Tabs:')
    report.tabs.forEach((tab, index) => {
      lines.push(`  [${index}] ${tab.title || '(untitled)'} (${tab.url})${tab.current ? ' <- current' : ''}`)
    })
  }
  const { width, height, scrollY, scrollHeight } = report.viewport
  const below = Math.max(0, scrollHeight - scrollY - height)
  lines.push(`Viewport: ${width}x${height} px, ${scrollY} px scrolled, ${below} px more below.`)
  for (const note of report.downloads) lines.push(note)
  if (report.elements !== undefined) {
    lines.push('', 'Interactive elements (index, element, text; click at the x,y given):', '<highlighted_elements>')
    for (const element of report.elements) lines.push(describeElement(element))
    lines.push('</highlighted_elements>')
  } else if (report.elementCount > 0) {
    lines.push(
      `${report.elementCount} interactive elements in view; browser_view_interactive_elements lists them with their indices and positions.`,
    )
  }
  lines.push('', textWindow(report, maxChars))
  return lines.join('\n')
}

/** `[3]<input type="text">Your name</input> at (412, 230)`: the reference's element line plus where to click. */
export function describeElement(element: InteractiveElement): string {
  const type = element.inputType === null ? '' : ` type="${element.inputType}"`
  const text = element.text.replace(/\s+/g, ' ')
  return `[${element.index}]<${element.tag}${type}>${text}</${element.tag}> at (${element.centerX}, ${element.centerY})`
}

function textWindow(report: PageReport, maxChars: number): string {
  const text = report.text
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
  if (text === '') return 'Page text: (none; the page shows no text, see the screenshot)'
  if (text.length <= maxChars) return `Page text (${text.length} characters):\n${text}`
  const { scrollY, scrollHeight } = report.viewport
  const share = scrollHeight > 0 ? scrollY / scrollHeight : 0
  const start = Math.max(0, Math.min(text.length - maxChars, Math.round(text.length * share) - 200))
  const end = start + maxChars
  return (
    `Page text (characters ${start + 1}-${end} of ${text.length}, from around the scrolled position; ` +
    `scroll to see more):\n${text.slice(start, end)}`
  )
}

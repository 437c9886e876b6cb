import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { formatBytes } from '../core/format-bytes.js'
import { listTree } from './file-tree.js'
import { defineTool, type Tool, type ToolContext } from './tool.js'
import { attribute } from './web/html-text.js'
import { resolveToolPath } from './workspace-path.js'

const MAX_FILE_BYTES = 5 * 1024 * 1024
const MAX_FILES = 2000
const MAX_DEPTH = 20

const parameters = z.object({
  path: z.string().min(1).describe('The relative path to an HTML file or a directory within the workspace to scan.'),
})

/**
 * The `list_html_links` tool, as the reference has it: the local pages an
 * HTML file (or every HTML file under a folder) links to, as unique file
 * names, so the model can check that a site it builds has every page it
 * links. berth adds which of those targets do not exist yet. Absolute URLs,
 * anchors, mailto:, tel: and javascript: links are not local pages; only
 * `.html`/`.htm` targets and extensionless routes count. Every file is read
 * through the workspace's one door; symlinks inside a scanned folder are
 * skipped, as list_files skips following them.
 *
 * @example
 *   await runTool(createListHtmlLinksTool(), { path: 'site' }, ctx)
 *   // "Local HTML pages linked from 'site': about.html, index.html. Missing in the workspace: about.html. …"
 */
export function createListHtmlLinksTool(): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'list_html_links',
    description:
      'Scans an HTML file (or every HTML file in a folder) in the workspace and lists the unique local HTML ' +
      'pages it links to, and which of them do not exist yet. Use it to check that a site links no missing pages.',
    parameters,
    async execute(input, context) {
      const { absolute, relative } = await resolveToolPath(context, input.path, { allowRoot: true })
      const shown = relative === '' ? '.' : relative
      const info = await stat(absolute).catch(() => null)
      if (info === null) return { output: `Error: Path not found: ${shown}`, isError: true }
      let files: string[]
      if (info.isDirectory()) {
        const { entries } = await listTree(absolute, { depth: MAX_DEPTH, maxEntries: MAX_FILES })
        files = entries
          .filter((entry) => entry.kind === 'file' && isHtmlName(entry.path))
          .map((entry) => (relative === '' ? entry.path : `${relative}/${entry.path}`))
      } else if (isHtmlName(relative)) {
        files = [relative]
      } else {
        return { output: `Error: ${shown} is not an HTML file.`, isError: true }
      }
      const names = new Set<string>()
      const missing = new Set<string>()
      const skipped: string[] = []
      for (const file of files) {
        const html = await readHtml(context, file)
        if (html === null) {
          skipped.push(file)
          continue
        }
        for (const href of localPageLinks(html)) {
          const name = path.posix.basename(href)
          names.add(name)
          if (!(await targetExists(context, file, href))) missing.add(name)
        }
      }
      const skippedNote =
        skipped.length > 0 ? ` Skipped (larger than ${formatBytes(MAX_FILE_BYTES)}): ${skipped.join(', ')}.` : ''
      if (names.size === 0) return { output: `No local HTML links found in '${shown}'.${skippedNote}` }
      const missingNote =
        missing.size > 0
          ? ` Missing in the workspace: ${[...missing].sort().join(', ')}.`
          : ' Each of them exists in the workspace.'
      return {
        output:
          `Local HTML pages linked from '${shown}': ${[...names].sort().join(', ')}.${missingNote}${skippedNote} ` +
          'Compare them with the pages you planned (e.g. in todo.md) and create any that are missing.',
      }
    },
  })
}

function isHtmlName(name: string): boolean {
  return /\.html?$/i.test(name)
}

/** The href of every `<a>` that points at a local page, without query or fragment. */
export function localPageLinks(html: string): string[] {
  const links: string[] = []
  for (const match of html.matchAll(/<a\b([^>]*)>/gi)) {
    const href = attribute(match[1] as string, 'href')?.trim()
    if (!href || href.startsWith('#') || href.startsWith('//') || /^[a-z][a-z0-9+.-]*:/i.test(href)) continue
    const target = href.replace(/[?#].*$/, '')
    if (target === '' || target.endsWith('/')) continue
    const name = path.posix.basename(target)
    if (isHtmlName(name) || !name.includes('.')) links.push(target)
  }
  return links
}

async function readHtml(context: ToolContext, file: string): Promise<string | null> {
  const { absolute } = await resolveToolPath(context, file)
  const info = await stat(absolute)
  if (info.size > MAX_FILE_BYTES) return null
  return readFile(absolute, 'utf8')
}

/** Whether a link from `file` lands on a page in the workspace (a route `x` may be `x.html` or `x/index.html`). */
async function targetExists(context: ToolContext, file: string, href: string): Promise<boolean> {
  const base = href.startsWith('/') ? '' : path.posix.dirname(file)
  const target = path.posix.normalize(path.posix.join(base === '.' ? '' : base, href.replace(/^\/+/, '')))
  const candidates = isHtmlName(target) ? [target] : [target, `${target}.html`, `${target}/index.html`]
  for (const candidate of candidates) {
    const found = await resolveToolPath(context, candidate)
      .then(({ absolute }) => stat(absolute))
      .then((s) => s.isFile())
      .catch(() => false)
    if (found) return true
  }
  return false
}

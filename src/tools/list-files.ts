import { stat } from 'node:fs/promises'
import { z } from 'zod'
import { formatBytes } from '../core/format-bytes.js'
import { listTree } from './file-tree.js'
import { intParam } from './params.js'
import { defineTool, type Tool } from './tool.js'
import { resolveToolPath } from './workspace-path.js'

const MAX_ENTRIES = 500
const MAX_DEPTH = 10

const parameters = z.object({
  path: z.string().optional().describe('Folder to list, relative to the workspace; default: the workspace itself.'),
  depth: intParam(`How many levels deep to list (1 to ${MAX_DEPTH}); default 2.`).optional(),
})

/**
 * The `list_files` tool: the workspace tree (or a folder of it), hidden
 * entries skipped, sizes shown, at most 500 entries.
 *
 * @example
 *   await runTool(createListFilesTool(), { path: 'site', depth: 1 }, ctx)
 *   // 'site/\n  index.html (1.2 KB)\n  style.css (300 B)'
 */
export function createListFilesTool(): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'list_files',
    description:
      'List the files and folders in the workspace (or in one folder of it), with sizes. Hidden files are skipped. ' +
      'Use it to see what exists before reading or editing.',
    parameters,
    async execute(input, context) {
      const { absolute, relative } = await resolveToolPath(context, input.path ?? '', { allowRoot: true })
      const shown = relative === '' ? '.' : relative
      const info = await stat(absolute).catch(() => null)
      if (info === null) return { output: `The path ${shown} does not exist.`, isError: true }
      if (!info.isDirectory()) return { output: `${shown} is a file (${formatBytes(info.size)}), not a folder.` }
      const depth = Math.min(Math.max(input.depth ?? 2, 1), MAX_DEPTH)
      const { entries, truncated } = await listTree(absolute, { depth, maxEntries: MAX_ENTRIES })
      if (entries.length === 0) return { output: `${shown}/ is empty.` }
      // Breadth-first listing (so a cut keeps the top levels); shown as a nested tree.
      const sorted = [...entries].sort((a, b) => compareSegments(a.path, b.path))
      const lines = sorted.map((entry) => {
        const levels = entry.path.replace(/\/$/, '').split('/')
        const name = `${levels.at(-1)}${entry.kind === 'dir' ? '/' : entry.kind === 'symlink' ? ' (symlink)' : ''}`
        const size = entry.size === undefined ? '' : ` (${formatBytes(entry.size)})`
        return `${'  '.repeat(levels.length)}${name}${size}`
      })
      if (truncated)
        lines.push(`[... stopped after ${MAX_ENTRIES} entries; list a subfolder or use a smaller depth ...]`)
      return { output: `${shown}/\n${lines.join('\n')}` }
    },
  })
}

function compareSegments(a: string, b: string): number {
  const left = a.replace(/\/$/, '').split('/')
  const right = b.replace(/\/$/, '').split('/')
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i] as string
    const y = right[i] as string
    if (x !== y) return x < y ? -1 : 1
  }
  return left.length - right.length
}

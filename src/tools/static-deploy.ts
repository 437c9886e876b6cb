import { stat } from 'node:fs/promises'
import { z } from 'zod'
import { countFiles } from './file-tree.js'
import { defineTool, type Tool } from './tool.js'
import { resolveToolPath } from './workspace-path.js'

const parameters = z.object({
  file_path: z
    .string()
    .describe(
      'Path to the static file or directory (relative to workspace). For directories, all contained files will be made accessible.',
    ),
})

/**
 * The `static_deploy` tool: the stable public URL of a file or folder in the
 * workspace, `<publicUrl>/workspace/<session>/<path>` (system.md invariant 6:
 * the URL never names where the data lives). Folders get a trailing `/`,
 * where the server serves their `index.html`.
 *
 * @example
 *   await runTool(createStaticDeployTool(), { file_path: 'site' }, ctx)
 *   // 'https://berth.example.com/workspace/<session>/site/\nThis folder holds 3 files ...'
 */
export function createStaticDeployTool(): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'static_deploy',
    description:
      'Get the public URL for static files or directories in the workspace. Use this tool to make files accessible via ' +
      'HTTP URLs for download or viewing. Always call this tool when you need to provide a file URL to the user. ' +
      'For directories, all files within will be made accessible, and the URL serves the index.html inside.',
    parameters,
    async execute(input, context) {
      const { absolute, relative } = await resolveToolPath(context, input.file_path, { allowRoot: true })
      const info = await stat(absolute).catch(() => null)
      if (info === null) return { output: `Path does not exist: ${input.file_path}`, isError: true }
      const { base, note } = publicBase(context.publicUrl)
      const encoded = relative === '' ? '' : relative.split('/').map(encodeURIComponent).join('/')
      const root = `${base}/workspace/${encodeURIComponent(context.sessionId)}/`
      const notes = note === null ? [] : [note]
      if (info.isFile()) return { output: [`${root}${encoded}`, ...notes].join('\n') }
      if (!info.isDirectory())
        return { output: `Path is neither a file nor directory: ${input.file_path}`, isError: true }
      const count = await countFiles(absolute)
      const url = `${root}${encoded === '' ? '' : `${encoded}/`}`
      return {
        output: [
          url,
          `This folder holds ${count} file${count === 1 ? '' : 's'}; all of them are reachable under this URL, ` +
            'and the URL itself serves the index.html inside it.',
          ...notes,
        ].join('\n'),
      }
    },
  })
}

/** The base URL without a trailing slash, with `0.0.0.0` (a listen address, never a place to browse) replaced. */
function publicBase(publicUrl: string): { base: string; note: string | null } {
  const trimmed = publicUrl.trim().replace(/\/+$/, '')
  if (trimmed === '') {
    return { base: '', note: 'Note: no public URL is configured, so this link is relative to the berth server.' }
  }
  if (!trimmed.includes('0.0.0.0')) return { base: trimmed, note: null }
  return {
    base: trimmed.replaceAll('0.0.0.0', 'localhost'),
    note:
      'Note: the server listens on 0.0.0.0, which is not a browsable address; localhost was used instead. ' +
      'Set PUBLIC_URL to the address users reach the server at.',
  }
}

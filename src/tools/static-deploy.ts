import { stat } from 'node:fs/promises'
import { z } from 'zod'
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
 * where the server serves their `index.html`. The result is the URL alone,
 * as the reference returns it: its frontend tests `result.startsWith('http')`
 * and loads the whole string in its Website tab, so anything said about the
 * URL lives in the description, and a misconfigured public URL goes to the log.
 *
 * @example
 *   await runTool(createStaticDeployTool(), { file_path: 'site' }, ctx)
 *   // { output: 'https://berth.example.com/workspace/<session>/site/' }
 */
export function createStaticDeployTool(): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'static_deploy',
    description:
      'Get the public URL for static files or directories in the workspace. Use this tool to make files accessible via ' +
      'HTTP URLs for download or viewing. Always call this tool when you need to provide a file URL to the user. ' +
      'The result is the URL and nothing else. For a directory the URL ends in a slash and serves the index.html ' +
      'inside it, and every file within the directory is reachable under that URL by its relative path.',
    parameters,
    async execute(input, context) {
      const { absolute, relative } = await resolveToolPath(context, input.file_path, { allowRoot: true })
      const info = await stat(absolute).catch(() => null)
      if (info === null) return { output: `Path does not exist: ${input.file_path}`, isError: true }
      if (!info.isFile() && !info.isDirectory()) {
        return { output: `Path is neither a file nor directory: ${input.file_path}`, isError: true }
      }
      const { base, note } = publicBase(context.publicUrl)
      if (note !== null) context.logger.warn({ tool: 'static_deploy', publicUrl: context.publicUrl }, note)
      const encoded = relative === '' ? '' : relative.split('/').map(encodeURIComponent).join('/')
      const root = `${base}/workspace/${encodeURIComponent(context.sessionId)}/`
      if (info.isFile()) return { output: `${root}${encoded}` }
      return { output: `${root}${encoded === '' ? '' : `${encoded}/`}` }
    },
  })
}

/** The base URL without a trailing slash, with `0.0.0.0` (a listen address, never a place to browse) replaced. */
function publicBase(publicUrl: string): { base: string; note: string | null } {
  const trimmed = publicUrl.trim().replace(/\/+$/, '')
  if (trimmed === '') {
    return {
      base: '',
      note: 'static_deploy: no public URL is configured, so the link is relative to the berth server.',
    }
  }
  if (!trimmed.includes('0.0.0.0')) return { base: trimmed, note: null }
  return {
    base: trimmed.replaceAll('0.0.0.0', 'localhost'),
    note:
      'static_deploy: the server listens on 0.0.0.0, which is not a browsable address; localhost was used instead. ' +
      'Set PUBLIC_URL to the address users reach the server at.',
  }
}

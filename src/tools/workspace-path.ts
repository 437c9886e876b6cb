import path from 'node:path'
import { BerthError } from '../core/errors.js'
import { isInside, normalizeRelativePath } from '../workspace/containment.js'
import type { ToolContext } from './tool.js'

/**
 * Turn a path the model sent into a workspace-relative one. Models (and
 * recorded ii-agent sessions) use relative paths, the reference's container
 * paths (`/workspace/site/index.html`), the absolute path of this workspace,
 * or an old machine's absolute path (`/var/data/workspace/<session>/a.txt`).
 * Everything else absolute is refused here; `..` and symlinks are refused
 * later by the containment check.
 *
 * @example
 *   toWorkspaceRelative('/workspace/site/index.html', ctx) // 'site/index.html'
 *   toWorkspaceRelative(`${ctx.workspaceDir}/a.txt`, ctx)  // 'a.txt'
 *   toWorkspaceRelative('/etc/passwd', ctx)                // throws PATH_OUTSIDE_WORKSPACE
 */
export function toWorkspaceRelative(input: string, context: Pick<ToolContext, 'workspaceDir' | 'sessionId'>): string {
  const trimmed = input.trim()
  if (!trimmed.startsWith('/')) return trimmed
  const normalized = path.posix.normalize(trimmed)
  const dir = path.resolve(context.workspaceDir)
  if (isInside(dir, normalized)) return path.relative(dir, normalized).split(path.sep).join('/')
  if (normalized === '/workspace') return ''
  if (normalized.startsWith('/workspace/')) return normalized.slice('/workspace/'.length)
  const segments = normalized.split('/')
  for (let i = 1; i < segments.length; i++) {
    const parent = segments[i - 1]
    if (segments[i] === context.sessionId && (parent === 'workspace' || parent === 'workspaces')) {
      return segments.slice(i + 1).join('/')
    }
  }
  throw new BerthError(
    'PATH_OUTSIDE_WORKSPACE',
    `The path ${input} is outside the workspace. Only files inside the workspace can be used: ` +
      "give a path relative to it (e.g. 'notes.txt' or 'site/index.html').",
    { details: { path: input } },
  )
}

/**
 * Resolve a model's path to an absolute path inside the session's workspace,
 * through the one containment door (`workspaces.resolve`).
 *
 * @example
 *   const { absolute, relative } = await resolveToolPath(context, 'site/index.html')
 */
export async function resolveToolPath(
  context: ToolContext,
  input: string,
  opts: { allowRoot?: boolean } = {},
): Promise<{ absolute: string; relative: string }> {
  const relative = toWorkspaceRelative(input, context)
  // storedDir: the workspace folder the run uses, in case it is not named after the session (GAIA task folders).
  const absolute = await context.workspaces.resolve(context.sessionId, relative, {
    allowRoot: opts.allowRoot ?? false,
    storedDir: context.workspaceDir,
  })
  return { absolute, relative: normalizeRelativePath(relative, { allowRoot: true }) }
}

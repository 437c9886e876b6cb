import type { Dirent } from 'node:fs'
import { readdir, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { BerthError } from '../core/errors.js'
import { isTransientRootEntry } from '../transfer/root-entries.js'
import { isInside } from '../workspace/containment.js'

/**
 * What a source folder holds, as berth and ii-agent lay it out in the wild:
 * `events.db`; session folders in `workspace/` (berth, the reference code)
 * or `workspaces/` (ii-agent's production config), or both; logs in
 * `agent_logs.txt` or `logs/agent_logs.txt`.
 */
export interface SourceLayout {
  /** Real path of the source folder. */
  root: string
  database: string | null
  /** Folders holding one folder per session, `workspace/` first. */
  workspaceDirs: string[]
  logs: string[]
  /** Other top-level names (copied as they are when the source is a berth root). */
  otherEntries: string[]
}

const WORKSPACE_DIRS = ['workspace', 'workspaces']
const LOG_FILES = ['agent_logs.txt', path.join('logs', 'agent_logs.txt')]
const DATABASE = 'events.db'

/**
 * Look at `dir` without changing anything. `exclude` (the target root, when
 * it lies inside the source) is never listed as something to copy.
 *
 * @example
 *   const layout = await inspectSource('/home/me/ii-agent', { exclude: '/var/data' })
 *   layout.workspaceDirs // ['/home/me/ii-agent/workspaces']
 */
export async function inspectSource(dir: string, options: { exclude?: string } = {}): Promise<SourceLayout> {
  const root = await realpathOrFail(dir)
  const database = (await kindOf(path.join(root, DATABASE))) === 'file' ? path.join(root, DATABASE) : null
  const workspaceDirs: string[] = []
  for (const name of WORKSPACE_DIRS) {
    if ((await kindOf(path.join(root, name))) === 'dir') workspaceDirs.push(path.join(root, name))
  }
  const logs: string[] = []
  for (const name of LOG_FILES) {
    if ((await kindOf(path.join(root, name))) === 'file') logs.push(path.join(root, name))
  }
  if (database === null && workspaceDirs.length === 0 && logs.length === 0) {
    throw new BerthError(
      'MIGRATE_SOURCE_INVALID',
      `${root} is not a berth or ii-agent data folder: it has no events.db, no workspace/ or workspaces/ folder ` +
        'and no agent_logs.txt. Point --from at the folder that holds them.',
      { details: { source: root } },
    )
  }
  const known = new Set([DATABASE, ...WORKSPACE_DIRS, 'agent_logs.txt'])
  if (logs.some((log) => log.endsWith(LOG_FILES[1] as string))) known.add('logs')
  const excluded = options.exclude === undefined ? undefined : path.resolve(options.exclude)
  const otherEntries = (await readdir(root))
    .filter((name) => !known.has(name) && !isTransientRootEntry(name) && !name.startsWith('events.db.backup-'))
    .filter((name) => excluded === undefined || !isInside(path.join(root, name), excluded))
    .sort()
  return { root, database, workspaceDirs, logs, otherEntries }
}

/**
 * The top-level names in a workspaces folder: one unit of copying each
 * (usually a session's folder). Our own staging names are skipped.
 */
export async function listWorkspaceUnits(workspaceDir: string): Promise<string[]> {
  let entries: Dirent[]
  try {
    entries = await readdir(workspaceDir, { withFileTypes: true })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return entries
    .map((entry) => entry.name)
    .filter((name) => !name.startsWith('.berth-'))
    .sort()
}

async function realpathOrFail(dir: string): Promise<string> {
  try {
    const real = await realpath(dir)
    if (!(await stat(real)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' })
    return real
  } catch (error) {
    throw new BerthError(
      'MIGRATE_SOURCE_INVALID',
      `The source ${path.resolve(dir)} cannot be read: ${(error as Error).message}. Pass the data folder with --from.`,
      { cause: error, details: { source: path.resolve(dir) } },
    )
  }
}

async function kindOf(p: string): Promise<'file' | 'dir' | 'other' | 'missing'> {
  try {
    const s = await stat(p)
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other'
  } catch {
    return 'missing'
  }
}

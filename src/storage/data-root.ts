import { statSync } from 'node:fs'
import { join, resolve } from 'node:path'

import { BerthError } from '../core/errors.js'

/** Where the chosen root came from; doctor prints it and durability checks depend on it. */
export type RootSource = 'flag' | 'env' | 'platform-volume' | 'persistent-default' | 'cwd'

export interface DataRootChoice {
  /** Absolute path of the data root. */
  root: string
  source: RootSource
}

/** The disk path of the reference system (a Render disk); found without configuration. */
export const PERSISTENT_ROOT = '/var/data'

/**
 * Pick the data root. Order: `--data-dir` flag, `BERTH_DATA_DIR`,
 * `RAILWAY_VOLUME_MOUNT_PATH` (a platform volume), `/var/data` when it exists
 * as a directory, else the current directory. Relative values resolve against
 * `cwd`; empty strings count as unset.
 *
 * Pure apart from one `stat` of the persistent default, so it never creates
 * anything: checking and creating the root is `ensureWritableRoot`'s job.
 *
 * @example
 *   const { root, source } = chooseDataRoot({ flag: opts.dataDir, env: process.env, cwd: process.cwd() })
 *   // { root: '/var/data', source: 'persistent-default' } on a Render disk
 */
export function chooseDataRoot(opts: {
  flag?: string | undefined
  env: Record<string, string | undefined>
  cwd: string
  /** Defaults to PERSISTENT_ROOT; injectable for tests. */
  persistentRoot?: string
}): DataRootChoice {
  const cwd = resolve(opts.cwd)
  if (isSet(opts.flag)) return { root: resolve(cwd, opts.flag), source: 'flag' }
  const fromEnv = opts.env.BERTH_DATA_DIR
  if (isSet(fromEnv)) return { root: resolve(cwd, fromEnv), source: 'env' }
  const volume = opts.env.RAILWAY_VOLUME_MOUNT_PATH
  if (isSet(volume)) return { root: resolve(cwd, volume), source: 'platform-volume' }

  const persistent = resolve(opts.persistentRoot ?? PERSISTENT_ROOT)
  const kind = probe(persistent)
  if (kind === 'directory') return { root: persistent, source: 'persistent-default' }
  if (kind === 'other') {
    // A file where the disk should be is a misconfiguration; falling back to
    // cwd would silently put data on ephemeral storage.
    throw new BerthError(
      'ROOT_NOT_A_DIRECTORY',
      `${persistent} exists but is not a directory, so berth cannot keep its data there. ` +
        `Remove or rename it, or choose a data root with --data-dir or BERTH_DATA_DIR.`,
      { details: { path: persistent } },
    )
  }
  return { root: cwd, source: 'cwd' }
}

/** The fixed layout under a root, the same as the reference system's. */
export interface DataPaths {
  root: string
  /** `<root>/events.db` */
  database: string
  /** `<root>/workspace` */
  workspaces: string
  /** `<root>/agent_logs.txt` */
  logs: string
}

/**
 * @example
 *   dataPaths('/var/data').database // '/var/data/events.db'
 */
export function dataPaths(root: string): DataPaths {
  const abs = resolve(root)
  return {
    root: abs,
    database: join(abs, 'events.db'),
    workspaces: join(abs, 'workspace'),
    logs: join(abs, 'agent_logs.txt'),
  }
}

function isSet(value: string | undefined): value is string {
  return value !== undefined && value !== ''
}

function probe(path: string): 'missing' | 'directory' | 'other' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other'
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing'
    // Exists but cannot be inspected (e.g. EACCES): choose it anyway so the
    // writability check fails loudly instead of silently using cwd.
    return 'directory'
  }
}

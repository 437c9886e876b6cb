import type { BerthConfig } from '../config/config.js'
import { LocalWorkspaceStorage } from './local-storage.js'
import type { WorkspaceStorage } from './workspace-storage.js'

/**
 * The workspace storage of this process: the one place that chooses a
 * backend. Today every workspace is a folder under `localRoot` (the data
 * root's `workspace/`); the S3 backend (`BERTH_WORKSPACE_URL=s3://…`) is
 * chosen here as well, keeping its scratch copies under `localRoot`.
 *
 * @example
 *   const storage = openWorkspaceStorage(config, { localRoot: paths.workspaces })
 */
export function openWorkspaceStorage(
  config: Pick<BerthConfig, 'workspaceQuota'>,
  options: { localRoot: string },
): WorkspaceStorage {
  return new LocalWorkspaceStorage({ root: options.localRoot, quotaBytes: config.workspaceQuota })
}

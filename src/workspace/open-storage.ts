import path from 'node:path'
import type { BerthConfig } from '../config/config.js'
import { BerthError } from '../core/errors.js'
import { LocalWorkspaceStorage } from './local-storage.js'
import type { WorkspaceFileIndex } from './s3/file-index.js'
import { createS3Client } from './s3/open-s3-storage.js'
import { ReadCache } from './s3/read-cache.js'
import { parseS3Url } from './s3/s3-location.js'
import { S3WorkspaceStorage } from './s3/s3-storage.js'
import type { WorkspaceKey, WorkspaceStorage } from './workspace-storage.js'

/**
 * The workspace storage of this process: the one place that chooses a
 * backend. Unset `BERTH_WORKSPACE_URL`: every workspace is a folder under
 * `localRoot` (the data root's `workspace/`). `s3://bucket/prefix`: an
 * S3-compatible bucket (src/workspace/s3/), whose scratch copies for the
 * shell live beside `localRoot` in `workspace-scratch/`; it needs the
 * database's file index (`fileIndex`). Call `checkWorkspaceStorage` before
 * serving, so a missing bucket or refused key stops the start.
 *
 * @example
 *   const storage = openWorkspaceStorage(config, { localRoot: paths.workspaces })
 */
export function openWorkspaceStorage(
  config: Pick<
    BerthConfig,
    'workspaceQuota' | 'workspaceUrl' | 'awsAccessKeyId' | 'awsSecretAccessKey' | 'awsRegion' | 'awsEndpointUrlS3'
  >,
  options: {
    localRoot: string
    /** The store's file index (src/store/workspace-file-index.ts); required for S3. */
    fileIndex?: WorkspaceFileIndex
    /** The lease epoch this process holds for a workspace, fencing its writes (S3). */
    epochOf?: (key: WorkspaceKey) => number | undefined
  },
): WorkspaceStorage {
  if (config.workspaceUrl) {
    if (!options.fileIndex) {
      throw new BerthError(
        'CONFIG_INVALID',
        'BERTH_WORKSPACE_URL (S3) needs the database file index of workspaces, which this command does not open',
        { details: { setting: 'BERTH_WORKSPACE_URL' } },
      )
    }
    const scratchDir = path.join(path.dirname(path.resolve(options.localRoot)), 'workspace-scratch')
    return new S3WorkspaceStorage({
      client: createS3Client(config),
      location: parseS3Url(config.workspaceUrl),
      endpoint: config.awsEndpointUrlS3,
      index: options.fileIndex,
      quotaBytes: config.workspaceQuota,
      scratchDir,
      epochOf: options.epochOf,
      // Per process (its pid in the name), so two berth processes on one root never empty each other's.
      readCache: new ReadCache(
        path.join(scratchDir, `.read-cache-${process.pid}-cache`),
        READ_CACHE_BYTES,
        READ_CACHE_FILE_BYTES,
      ),
    })
  }
  return new LocalWorkspaceStorage({ root: options.localRoot, quotaBytes: config.workspaceQuota })
}

/** Local copies of small files read from S3: 256 MiB in all, files up to 8 MiB (s3/read-cache.ts). */
const READ_CACHE_BYTES = 256 * 1024 * 1024
const READ_CACHE_FILE_BYTES = 8 * 1024 * 1024

/**
 * Prove the storage usable before serving: for S3, the bucket answers and a
 * test write reads back (`STORAGE_UNAVAILABLE` naming the setting
 * otherwise); local storage was checked with the data root.
 */
export async function checkWorkspaceStorage(storage: WorkspaceStorage): Promise<void> {
  if (storage instanceof S3WorkspaceStorage) await storage.check()
}

/** Let go of the storage's connections at shutdown (S3's HTTP agents); local storage holds none. */
export async function closeWorkspaceStorage(storage: WorkspaceStorage): Promise<void> {
  if (storage instanceof S3WorkspaceStorage) storage.close()
}

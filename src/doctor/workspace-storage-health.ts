import type { BerthConfig } from '../config/config.js'
import { MemoryFileIndex } from '../workspace/s3/file-index.js'
import { openS3WorkspaceStorage } from '../workspace/s3/open-s3-storage.js'

/** What doctor says about S3 workspaces (BERTH_WORKSPACE_URL). */
export interface BucketHealth {
  /** `s3://bucket/prefix` (no secret in it). */
  url: string
  /** AWS_ENDPOINT_URL_S3, or null for AWS S3 itself. */
  endpoint: string | null
  /** HeadBucket's time and the write canary's (write, read back, delete), in ms. */
  bucketMs: number
  canaryMs: number
}

/**
 * Prove the bucket usable as `berth serve` does at start (S3WorkspaceStorage.check:
 * the bucket answers, a test object writes, reads back and is deleted), with
 * a client of its own. Throws `STORAGE_UNAVAILABLE` naming the setting to check.
 */
export async function bucketHealth(
  config: Pick<
    BerthConfig,
    'workspaceUrl' | 'awsAccessKeyId' | 'awsSecretAccessKey' | 'awsRegion' | 'awsEndpointUrlS3'
  >,
  scratchDir: string,
): Promise<BucketHealth> {
  const url = config.workspaceUrl as string
  // The check touches no workspace, so no file index is read: an empty one in memory stands in.
  const storage = await openS3WorkspaceStorage({
    settings: { ...config, workspaceUrl: url },
    index: new MemoryFileIndex(),
    quotaBytes: null,
    scratchDir,
    check: false,
  })
  try {
    const { bucketMs, canaryMs } = await storage.check()
    const round = (ms: number) => Math.round(ms * 100) / 100
    return { url, endpoint: config.awsEndpointUrlS3 ?? null, bucketMs: round(bucketMs), canaryMs: round(canaryMs) }
  } finally {
    storage.close()
  }
}

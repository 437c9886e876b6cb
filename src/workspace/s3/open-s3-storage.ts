import path from 'node:path'
import { S3Client } from '@aws-sdk/client-s3'
import type { WorkspaceKey } from '../workspace-storage.js'
import type { WorkspaceFileIndex } from './file-index.js'
import { reportRequests } from './request-observer.js'
import { parseS3Url } from './s3-location.js'
import { S3WorkspaceStorage } from './s3-storage.js'

/** The settings of an S3 workspace store (BERTH_WORKSPACE_URL and the AWS_* rows of src/config/settings.ts). */
export interface S3Settings {
  workspaceUrl: string
  awsAccessKeyId?: string | undefined
  awsSecretAccessKey?: string | undefined
  awsRegion?: string | undefined
  awsEndpointUrlS3?: string | undefined
}

/**
 * An S3 client as every S3-compatible server takes it: path-style requests
 * when an endpoint is set (MinIO, radosgw and self-hosted servers have no
 * per-bucket host names), and checksums only where the operation requires
 * them (newer SDKs send aws-chunked uploads with trailing checksums by
 * default, which Ceph and other servers cannot read). Credentials given in
 * the settings win; otherwise the SDK's own chain applies.
 */
export function createS3Client(settings: Omit<S3Settings, 'workspaceUrl'>): S3Client {
  const { awsAccessKeyId: accessKeyId, awsSecretAccessKey: secretAccessKey } = settings
  const client = new S3Client({
    region: settings.awsRegion ?? 'us-east-1',
    ...(settings.awsEndpointUrlS3 ? { endpoint: settings.awsEndpointUrlS3, forcePathStyle: true } : {}),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Fail fast on an unreachable endpoint instead of hanging a request.
    requestHandler: { connectionTimeout: 5_000, socketTimeout: 60_000 },
  })
  // Counts and times each request for /metrics (request-observer.ts).
  reportRequests(client)
  return client
}

export interface OpenS3Options {
  settings: S3Settings
  index: WorkspaceFileIndex
  quotaBytes: number | null
  /** `<data root>/scratch` or another local folder for spooled uploads and materialized workspaces. */
  scratchDir: string
  epochOf?: (key: WorkspaceKey) => number | undefined
  /** Skip the start-up check (HeadBucket and a write canary); on by default. */
  check?: boolean
}

/**
 * Open workspaces in the bucket named by BERTH_WORKSPACE_URL, refusing to
 * start (`STORAGE_UNAVAILABLE`, naming the setting) when the bucket is
 * missing, the credentials are refused or the endpoint does not answer.
 *
 * @example
 *   const storage = await openS3WorkspaceStorage({ settings: config, index, quotaBytes: config.workspaceQuota,
 *     scratchDir: path.join(root, 'scratch') })
 */
export async function openS3WorkspaceStorage(options: OpenS3Options): Promise<S3WorkspaceStorage> {
  const location = parseS3Url(options.settings.workspaceUrl)
  const client = createS3Client(options.settings)
  const storage = new S3WorkspaceStorage({
    client,
    location,
    endpoint: options.settings.awsEndpointUrlS3,
    index: options.index,
    quotaBytes: options.quotaBytes,
    scratchDir: path.resolve(options.scratchDir),
    epochOf: options.epochOf,
  })
  if (options.check !== false) {
    try {
      await storage.check()
    } catch (error) {
      client.destroy()
      throw error
    }
  }
  return storage
}

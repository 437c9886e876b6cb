import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { BerthError } from '../core/errors.js'
import { openStore } from '../store/open-store.js'
import { redactDatabaseUrl } from '../store/postgres/connection-config.js'
import type { Store } from '../store/store.js'
import { isValidSessionId, normalizeRelativePath } from '../workspace/containment.js'
import { LocalWorkspaceStorage } from '../workspace/local-storage.js'
import type { WorkspaceFileIndex } from '../workspace/s3/file-index.js'
import { createS3Client, type S3Settings } from '../workspace/s3/open-s3-storage.js'
import { storageFailure } from '../workspace/s3/s3-errors.js'
import { ObjectKeys, parseS3Url } from '../workspace/s3/s3-location.js'
import { S3WorkspaceStorage } from '../workspace/s3/s3-storage.js'
import type { WorkspaceKey, WorkspaceStorage } from '../workspace/workspace-storage.js'
import { listWorkspaceUnits } from './source-layout.js'

/**
 * Where workspaces are read from or written to in a move between backends:
 * the storage itself, plus the two things the `WorkspaceStorage` interface
 * does not offer and a byte-exact copy needs: listing the workspaces, and
 * making an empty folder (or an empty workspace) without the standard
 * folders `create` adds.
 */
export interface WorkspaceSide {
  storage: WorkspaceStorage
  /** For messages: a folder, or `s3://bucket/prefix`. */
  label: string
  keys(): Promise<WorkspaceKey[]>
  makeWorkspace(key: WorkspaceKey): Promise<void>
  makeFolder(key: WorkspaceKey, relative: string): Promise<void>
  close(): Promise<void>
}

/** The S3 settings berth reads (src/config/settings.ts: AWS_*), without the bucket URL. */
export type S3Credentials = Omit<S3Settings, 'workspaceUrl'>

/** Workspaces as folders under `root` (a data root's `workspace/`, or any folder holding one folder per workspace). */
export function localWorkspaces(root: string): WorkspaceSide {
  const storage = new LocalWorkspaceStorage({ root, quotaBytes: null })
  const folder = (key: WorkspaceKey, relative: string) => {
    if (!isValidSessionId(key)) throw new BerthError('PATH_INVALID', `Not a valid workspace key: ${key}`)
    const clean = normalizeRelativePath(relative, { allowRoot: true })
    return path.join(storage.folderOf(key), ...clean.split('/').filter((part) => part !== ''))
  }
  return {
    storage,
    label: storage.root,
    keys: async () => (await listWorkspaceUnits(storage.root)).filter((name) => isValidSessionId(name)),
    makeWorkspace: async (key) => void (await mkdir(folder(key, ''), { recursive: true })),
    makeFolder: async (key, relative) => void (await mkdir(folder(key, relative), { recursive: true })),
    close: async () => undefined,
  }
}

/**
 * Workspaces in a bucket (`s3://bucket/prefix`), indexed in the store's own
 * database (`store.workspaceFiles()`, the `workspace_file` table) as a berth
 * instance indexes them, so the instance that serves them afterwards finds
 * every file's size, SHA-256 and ETag. `scratchDir` takes spooled uploads.
 */
export function s3Workspaces(
  url: string,
  index: WorkspaceFileIndex,
  credentials: S3Credentials,
  scratchDir: string,
): WorkspaceSide {
  const location = parseS3Url(url)
  const client = createS3Client(credentials)
  const storage = new S3WorkspaceStorage({
    client,
    location,
    endpoint: credentials.awsEndpointUrlS3,
    index,
    quotaBytes: null,
    scratchDir,
  })
  const keys = new ObjectKeys(location)
  const context = { bucket: location.bucket, endpoint: credentials.awsEndpointUrlS3 }
  const top = keys.workspace('x').slice(0, -'x/'.length)
  return {
    storage,
    label: `s3://${location.bucket}${location.prefix ? `/${location.prefix}` : ''}`,
    keys: () =>
      listTopFolders(client, location.bucket, top).catch((error: unknown) => {
        throw storageFailure(error, 'Listing the workspaces', context)
      }),
    // The workspace's own marker only: `create` would add the standard folders, which the source may lack.
    makeWorkspace: async (key) => {
      await client
        .send(new PutObjectCommand({ Bucket: location.bucket, Key: keys.workspace(key), Body: new Uint8Array(0) }))
        .catch((error: unknown) => {
          throw storageFailure(error, 'Creating a workspace', context)
        })
    },
    makeFolder: (key, relative) => storage.makeFolder(key, relative),
    close: async () => {
      storage.close()
    },
  }
}

async function listTopFolders(client: S3Client, bucket: string, prefix: string): Promise<WorkspaceKey[]> {
  const names: string[] = []
  let token: string | undefined
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
    )
    for (const common of page.CommonPrefixes ?? []) {
      const name = (common.Prefix ?? '').slice(prefix.length, -1)
      if (isValidSessionId(name)) names.push(name)
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token !== undefined)
  return names.sort()
}

/** True for `postgres://` and `postgresql://` URLs. */
export function isPostgresUrl(value: string | undefined | null): value is string {
  return value != null && /^postgres(ql)?:\/\//i.test(value.trim())
}

/** True for `s3://` URLs. */
export function isS3Url(value: string | undefined | null): value is string {
  return value != null && /^s3:\/\//i.test(value.trim())
}

/** A PostgreSQL store, its schema brought up to date when it is a target. */
export async function openPostgres(
  url: string,
  options: { caFile?: string | null; readonly?: boolean } = {},
): Promise<Store> {
  return openStore(
    { kind: 'postgres', url, poolSize: 4, caFile: options.caFile ?? null },
    { readonly: options.readonly },
  )
}

/** The URL without its password, for messages and the journal's name. */
export function describeDatabase(url: string): string {
  return redactDatabaseUrl(url)
}

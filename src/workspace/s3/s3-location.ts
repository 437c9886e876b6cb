import { BerthError } from '../../core/errors.js'
import { isValidSessionId } from '../containment.js'
import type { WorkspaceKey } from '../workspace-storage.js'

/** Where workspaces live in a bucket: `s3://<bucket>/<prefix>`. */
export interface S3Location {
  bucket: string
  /** No leading or trailing slash; '' for the bucket's top. */
  prefix: string
}

/** The longest object key S3 takes, in UTF-8 bytes (one is kept for a folder marker's slash). */
const MAX_KEY_BYTES = 1024

// S3's bucket naming rules (3–63 of lowercase letters, digits, dots and hyphens), loose enough for R2 and B2.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

/**
 * Parse `BERTH_WORKSPACE_URL` (`s3://bucket` or `s3://bucket/some/prefix`).
 *
 * @example
 *   parseS3Url('s3://berth-data/prod') // { bucket: 'berth-data', prefix: 'prod' }
 */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(url.trim())
  const bucket = match?.[1] ?? ''
  if (!match || !BUCKET.test(bucket)) {
    throw new BerthError(
      'CONFIG_INVALID',
      `BERTH_WORKSPACE_URL must look like s3://bucket/prefix (a bucket name of 3 to 63 lowercase letters, digits, dots or hyphens); got ${JSON.stringify(url)}`,
      { details: { setting: 'BERTH_WORKSPACE_URL' } },
    )
  }
  const prefix = (match[2] ?? '')
    .split('/')
    .filter((part) => part !== '')
    .join('/')
  return { bucket, prefix }
}

/**
 * Object keys of one location: a workspace's files at
 * `<prefix>/workspace/<key>/<path>`, an empty folder as a zero-byte marker
 * `<prefix>/workspace/<key>/<path>/` (S3 has no folders; a folder with files
 * in it needs no marker), the workspace itself as the marker
 * `<prefix>/workspace/<key>/`.
 */
export class ObjectKeys {
  private readonly root: string

  constructor(location: S3Location) {
    this.root = location.prefix === '' ? 'workspace/' : `${location.prefix}/workspace/`
  }

  /** `<prefix>/workspace/<key>/`: the workspace's marker, and the prefix of all its objects. */
  workspace(key: WorkspaceKey): string {
    if (!isValidSessionId(key)) {
      throw new BerthError('PATH_INVALID', `Not a valid workspace key: ${JSON.stringify(String(key))}`, {
        details: { key: String(key) },
      })
    }
    return `${this.root}${key}/`
  }

  file(key: WorkspaceKey, path: string): string {
    const objectKey = `${this.workspace(key)}${path}`
    // S3's limit; a disk allows longer paths (4096), so say so rather than pass on the server's 400.
    if (Buffer.byteLength(objectKey) > MAX_KEY_BYTES - 1) {
      throw new BerthError(
        'PATH_INVALID',
        `Path is too long for S3 storage (object keys hold ${MAX_KEY_BYTES} bytes at most): ${path.slice(0, 80)}…`,
        {
          details: { path },
        },
      )
    }
    return objectKey
  }

  /** The folder's marker, and the prefix of everything in it ('' is the workspace). */
  folder(key: WorkspaceKey, path: string): string {
    return path === '' ? this.workspace(key) : `${this.workspace(key)}${path}/`
  }

  /** A scratch key for the start-up canary, outside every workspace. */
  canary(id: string): string {
    return `${this.root.slice(0, -'workspace/'.length)}.berth-canary-${id}`
  }
}

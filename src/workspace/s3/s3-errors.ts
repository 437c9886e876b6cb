import { BerthError } from '../../core/errors.js'

/** What an S3 SDK error carries that berth looks at. */
interface S3ErrorShape {
  name?: string
  code?: string
  message?: string
  $metadata?: { httpStatusCode?: number }
}

export function s3Status(error: unknown): number | undefined {
  return (error as S3ErrorShape | null)?.$metadata?.httpStatusCode
}

/** The object (or the bucket's key) is not there: a normal answer. */
export function isNotFound(error: unknown): boolean {
  const e = error as S3ErrorShape | null
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || (s3Status(error) === 404 && e?.name !== 'NoSuchBucket')
}

/** A conditional write lost (If-Match / If-None-Match). */
export function isPreconditionFailed(error: unknown): boolean {
  const e = error as S3ErrorShape | null
  return s3Status(error) === 412 || e?.name === 'PreconditionFailed' || e?.name === 'ConditionalRequestConflict'
}

export interface StorageContext {
  bucket: string
  endpoint: string | undefined
}

/**
 * Turn an S3 failure that means "the storage cannot be used" (bucket gone,
 * credentials refused, endpoint unreachable or failing) into
 * `STORAGE_UNAVAILABLE` naming the setting to check. Anything else (a
 * missing object, a lost precondition) is returned as it was.
 */
export function storageFailure(error: unknown, what: string, context: StorageContext): unknown {
  if (error instanceof BerthError) return error
  const e = (error ?? {}) as S3ErrorShape
  const status = s3Status(error)
  const where = context.endpoint ?? 'AWS S3'
  const fail = (reason: string, message: string) =>
    new BerthError('STORAGE_UNAVAILABLE', `${what}: ${message}`, {
      cause: error,
      details: { reason, bucket: context.bucket, endpoint: context.endpoint ?? null },
    })
  if (e.name === 'NoSuchBucket' || (status === 404 && what.startsWith('Checking the bucket'))) {
    return fail(
      'bucket_missing',
      `the bucket ${context.bucket} does not exist at ${where} (BERTH_WORKSPACE_URL; create it, or check AWS_ENDPOINT_URL_S3)`,
    )
  }
  if (
    status === 401 ||
    status === 403 ||
    e.name === 'InvalidAccessKeyId' ||
    e.name === 'SignatureDoesNotMatch' ||
    e.name === 'AccessDenied'
  ) {
    return fail(
      'access_denied',
      `${where} refused the credentials for bucket ${context.bucket} (${e.name ?? status}; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`,
    )
  }
  if (status === undefined) {
    const code = e.code ?? (e as { cause?: { code?: string } }).cause?.code ?? e.name
    return fail(
      'unreachable',
      `cannot reach ${where} (${code ?? 'no answer'}: ${e.message ?? ''}; check AWS_ENDPOINT_URL_S3 and AWS_REGION)`,
    )
  }
  if (status >= 500) return fail('server_error', `${where} failed with ${status} (${e.name ?? 'error'}); try again`)
  return error
}

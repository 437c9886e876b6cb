import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'

export interface MultipartInput {
  client: S3Client
  bucket: string
  key: string
  size: number
  metadata: Record<string, string>
  /** The bytes `[start, end)` of the content, read again for a retried part. */
  readPart(start: number, end: number): Promise<Buffer>
  /**
   * Called after every part is up and right before the completion, which
   * replaces the object: throws to give up (the upload is aborted). The
   * completion also carries `condition`, for servers that check it there.
   */
  beforeComplete(): Promise<void>
  condition: { IfMatch?: string; IfNoneMatch?: string }
  partSize: number
  /** Parts in flight at once. */
  parallel: number
}

/**
 * A multipart upload of a spooled file, written out rather than through
 * lib-storage's `Upload` because the last step needs a hook: the upload can
 * take minutes, and whether the object may still be replaced (the epoch
 * fence) must be decided right before the completion, not before the first
 * part. Not every server honours If-Match / If-None-Match on the completion
 * (Ceph 16 ignores them), so `beforeComplete` looks first. Each part is a
 * request of its own, retried by the SDK; a failure aborts the upload so no
 * parts are left billed.
 */
export async function multipartUpload(input: MultipartInput): Promise<string | undefined> {
  const { client, bucket, key } = input
  const created = await client.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, Metadata: input.metadata }),
  )
  const uploadId = created.UploadId
  if (!uploadId) throw new Error(`the server started no multipart upload for ${key}`)
  try {
    const count = Math.max(1, Math.ceil(input.size / input.partSize))
    const parts: CompletedPart[] = new Array(count)
    let next = 0
    const worker = async () => {
      for (let index = next++; index < count; index = next++) {
        const start = index * input.partSize
        const body = await input.readPart(start, Math.min(input.size, start + input.partSize))
        const answer = await client.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: index + 1,
            Body: body,
            ContentLength: body.byteLength,
          }),
        )
        parts[index] = { PartNumber: index + 1, ETag: answer.ETag }
      }
    }
    await Promise.all(Array.from({ length: Math.min(input.parallel, count) }, worker))
    await input.beforeComplete()
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
        ...input.condition,
      }),
    )
    return done.ETag || undefined
  } catch (error) {
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined)
    throw error
  }
}

import { join } from 'node:path'
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { openWorkspaceStorage } from '../../src/workspace/open-storage.js'
import { MemoryFileIndex } from '../../src/workspace/s3/file-index.js'
import { observeS3 } from '../../src/workspace/s3/request-observer.js'
import type { S3WorkspaceStorage } from '../../src/workspace/s3/s3-storage.js'
import {
  freshBucket,
  type Radosgw,
  radosgwClient,
  radosgwUnavailableReason,
  sharedRadosgw,
} from '../helpers/radosgw.js'
import { tempDir } from '../helpers/temp-dir.js'
import { startHealthApp } from './metrics-readyz-harness.js'

const skip = radosgwUnavailableReason()
if (skip) console.warn(`/readyz on S3 skipped: ${skip}`)

const closers: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

async function readyOn(
  rgw: Radosgw,
  bucket: string,
  credentials = { id: rgw.accessKeyId, secret: rgw.secretAccessKey },
) {
  const root = await tempDir('berth-readyz-s3-')
  const store = await SqliteStore.open({ file: join(root, 'berth.db') })
  closers.push(() => store.close())
  const storage = openWorkspaceStorage(
    {
      workspaceQuota: null,
      workspaceUrl: `s3://${bucket}/berth`,
      awsAccessKeyId: credentials.id,
      awsSecretAccessKey: credentials.secret,
      awsRegion: rgw.region,
      awsEndpointUrlS3: rgw.endpoint,
    },
    { localRoot: join(root, 'workspace'), fileIndex: new MemoryFileIndex() },
  ) as S3WorkspaceStorage
  closers.push(() => storage.close())
  const { app, url } = await startHealthApp({ root, store, workspaceStorage: storage })
  closers.push(() => app.close())
  return async () => {
    const response = await fetch(`${url}/readyz`)
    return { status: response.status, body: (await response.json()) as Record<string, any> }
  }
}

describe.skipIf(Boolean(skip))('/readyz with S3 workspaces', { timeout: 60_000 }, () => {
  it('checks the bucket and a write canary, leaves nothing behind, and reuses a pass for the next probes', async () => {
    const rgw = await sharedRadosgw(inject('radosgwRunDir'))
    const bucket = await freshBucket(rgw, 'readyz')
    const probe = await readyOn(rgw, bucket)
    const operations: string[] = []
    closers.push(observeS3({ request: ({ operation }) => operations.push(operation) }))

    const first = await probe()
    expect(first.status).toBe(200)
    expect(first.body.ready).toBe(true)
    expect(first.body.workspaces).toMatchObject({ backend: 's3', reachable: true })
    expect(first.body.workspaces.bucketMs).toBeGreaterThan(0)
    expect(first.body.workspaces.canaryMs).toBeGreaterThan(0)
    expect(operations).toEqual(['HeadBucket', 'PutObject', 'GetObject', 'DeleteObjects'])
    const client = radosgwClient(rgw)
    closers.push(() => client.destroy())
    expect((await client.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount).toBe(0)

    operations.length = 0
    const again = await probe()
    expect(again.status).toBe(200)
    expect(again.body.workspaces).toMatchObject({ reachable: true, bucketMs: first.body.workspaces.bucketMs })
    expect(operations).toEqual([])
  })

  it('503 naming BERTH_WORKSPACE_URL while the bucket is missing; 200 once it exists (a failure is not reused)', async () => {
    const rgw = await sharedRadosgw(inject('radosgwRunDir'))
    const bucket = `berth-readyz-later-${Date.now().toString(36)}`
    const probe = await readyOn(rgw, bucket)
    const missing = await probe()
    expect(missing.status).toBe(503)
    expect(missing.body.ready).toBe(false)
    expect(missing.body.workspaces).toMatchObject({ backend: 's3', reachable: false, code: 'STORAGE_UNAVAILABLE' })
    expect(missing.body.workspaces.error).toContain(`the bucket ${bucket} does not exist`)
    expect(missing.body.workspaces.error).toContain('BERTH_WORKSPACE_URL')
    expect(missing.body.store.writable).toBe(true)

    const client = radosgwClient(rgw)
    closers.push(() => client.destroy())
    await client.send(new CreateBucketCommand({ Bucket: bucket }))
    const back = await probe()
    expect(back.status).toBe(200)
    expect(back.body.workspaces.reachable).toBe(true)
  })

  it('503 naming AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY when the credentials are refused; the secret is not shown', async () => {
    const rgw = await sharedRadosgw(inject('radosgwRunDir'))
    const bucket = await freshBucket(rgw, 'readyz-keys')
    const probe = await readyOn(rgw, bucket, { id: rgw.accessKeyId, secret: 'not-the-secret-7f3a' })
    const refused = await probe()
    expect(refused.status).toBe(503)
    expect(refused.body.workspaces.error).toMatch(
      /refused the credentials.*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    )
    expect(JSON.stringify(refused.body)).not.toContain('not-the-secret-7f3a')
  })
})

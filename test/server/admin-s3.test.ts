import type { S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  type Radosgw,
  radosgwClient,
  radosgwUnavailableReason,
  s3StorageForTest,
  sharedRadosgw,
} from '../helpers/radosgw.js'
import { json, startFileServer } from './file-routes-harness.js'

const skip = radosgwUnavailableReason()
if (skip) console.warn(`/admin/stats with S3 workspaces skipped: ${skip}`)

const TOKEN = 'admin-s3-token-0123456789abcdef'

describe.skipIf(Boolean(skip))('/admin/stats with workspaces in S3', () => {
  let rgw: Radosgw
  let client: S3Client
  beforeAll(async () => {
    rgw = await sharedRadosgw(inject('radosgwRunDir'))
    client = radosgwClient(rgw)
  }, 120_000)
  afterAll(() => client?.destroy())

  it("counts the bucket's workspaces and bytes, not the local folder's", async () => {
    const { storage: s3, bucket } = await s3StorageForTest(rgw, client, { label: 'admin-stats' })
    const server = await startFileServer(
      { BERTH_AUTH_TOKEN: TOKEN, BERTH_WORKSPACE_URL: `s3://${bucket}/berth` },
      { storage: async () => s3 },
    )
    for (const [key, bytes] of [
      ['w1', 1000],
      ['w2', 2500],
    ] as const) {
      await s3.create(key)
      await s3.write(key, 'uploaded_files/data.bin', Buffer.alloc(bytes, 7))
    }
    const stats = await json(
      await fetch(`${server.url}/admin/stats`, { headers: { authorization: `Bearer ${TOKEN}` } }),
    )
    expect(stats.workspace).toMatchObject({
      path: `s3://${bucket}/berth`,
      num_workspaces: 2,
      total_size_bytes: 3500,
    })
  })
})

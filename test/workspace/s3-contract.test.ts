import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { inject } from 'vitest'
import { MemoryFileIndex } from '../../src/workspace/s3/file-index.js'
import { S3WorkspaceStorage } from '../../src/workspace/s3/s3-storage.js'
import { freshBucket, radosgwClient, radosgwUnavailableReason, sharedRadosgw } from '../helpers/radosgw.js'
import { describeWorkspaceStorage } from './storage-contract.js'

const unavailable = radosgwUnavailableReason()
if (unavailable) console.warn(unavailable)

let bucket: Promise<string> | undefined

/** The contract suite on a real S3 server: one bucket per file, a fresh prefix (and index) per storage. */
if (!unavailable) {
  describeWorkspaceStorage(
    'S3 (Ceph radosgw)',
    async ({ quotaBytes }) => {
      const rgw = await sharedRadosgw(inject('radosgwRunDir'))
      bucket ??= freshBucket(rgw, 'contract')
      const client = radosgwClient(rgw)
      const scratch = await mkdtemp(path.join(tmpdir(), 'berth-s3-contract-'))
      const storage = new S3WorkspaceStorage({
        client,
        location: { bucket: await bucket, prefix: `run-${randomBytes(4).toString('hex')}` },
        endpoint: rgw.endpoint,
        index: new MemoryFileIndex(),
        quotaBytes,
        scratchDir: scratch,
      })
      return {
        storage,
        close: async () => {
          client.destroy()
          await rm(scratch, { recursive: true, force: true })
        },
      }
    },
    { symlinks: false },
  )
}

import { join } from 'node:path'
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { dbTimestamp } from '../../src/core/time.js'
import { parseDuration } from '../../src/prune/parse-duration.js'
import { planPrune, pruneSessions } from '../../src/prune/prune-sessions.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { SessionRecord, StoredEvent } from '../../src/store/types.js'
import { Workspaces } from '../../src/workspace/workspaces.js'
import {
  type Radosgw,
  radosgwClient,
  radosgwUnavailableReason,
  s3StorageForTest,
  sharedRadosgw,
} from '../helpers/radosgw.js'
import { tempDir } from '../helpers/temp-dir.js'

const skip = radosgwUnavailableReason()
if (skip) console.warn(`berth prune on S3 workspaces skipped: ${skip}`)

const OLD = 'bbbbbbbb-0000-4000-8000-000000000001'
const RECENT = 'bbbbbbbb-0000-4000-8000-000000000002'

/**
 * Retention with workspaces in S3: what a prune deletes must leave the
 * bucket too (a deleted session's files must not linger there, unlisted and
 * paid for), and its size comes from the storage, not from a local folder.
 */
describe.skipIf(Boolean(skip))('berth prune with S3 workspaces', () => {
  let rgw: Radosgw
  let client: S3Client
  beforeAll(async () => {
    rgw = await sharedRadosgw(inject('radosgwRunDir'))
    client = radosgwClient(rgw)
  }, 120_000)
  afterAll(() => client?.destroy())

  it('sizes an old session by its objects, deletes them with it, and leaves a recent one alone', async () => {
    const root = await tempDir()
    const store = await SqliteStore.open({ file: join(root, 'events.db') })
    const workspaces = new Workspaces({ root: join(root, 'workspace'), quotaBytes: null })
    const { storage, bucket } = await s3StorageForTest(rgw, client, { label: 'prune', index: store.workspaceFiles() })
    try {
      // The old session's last change is long ago; the recent one's is now.
      for (const [id, when] of [
        [OLD, '2025-01-05 10:00:00.000000'],
        [RECENT, dbTimestamp()],
      ] as const) {
        const session: SessionRecord = {
          id,
          workspaceDir: workspaces.dirFor(id),
          createdAt: when,
          deviceId: 'd',
          summary: null,
          name: null,
          runOwner: null,
          status: 'idle',
          updatedAt: when,
          label: null,
        }
        const event: StoredEvent = {
          id: `${id.slice(0, -4)}e${id.slice(-3)}`,
          sessionId: id,
          seq: 1,
          timestamp: when,
          type: 'user_message',
          payload: '{"type": "user_message", "content": {"text": "hi"}}',
        }
        expect((await store.mergeSession({ session, events: [event] })).outcome).toBe('inserted')
        await storage.create(id)
        await storage.write(id, 'uploaded_files/a.bin', Buffer.alloc(10_000, 1))
        await storage.write(id, 'site/index.html', '<h1>x</h1>')
      }
      const plan = await planPrune(store, workspaces, { olderThanMs: parseDuration('30d'), storage })
      expect(plan.candidates.map((c) => ({ id: c.id, folder: c.folder, bytes: c.bytes }))).toEqual([
        { id: OLD, folder: OLD, bytes: 10_010 },
      ])

      expect(await pruneSessions(store, workspaces, plan.candidates, undefined, storage)).toEqual({
        sessions: 1,
        events: 1,
        bytes: 10_010,
      })
      const left = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'berth/workspace/' }))
      const keys = (left.Contents ?? []).map((object) => object.Key ?? '')
      expect(keys.filter((key) => key.includes(OLD))).toEqual([])
      expect(keys.filter((key) => key.includes(RECENT)).length).toBeGreaterThan(0)
      expect(await store.getSession(OLD)).toBeNull()
      expect(await storage.exists(RECENT)).toBe(true)
    } finally {
      await store.close()
    }
  })
})

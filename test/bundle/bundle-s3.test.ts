import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import type { S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { importSessionBundle } from '../../src/bundle/import-session-bundle.js'
import { writeSessionBundle } from '../../src/bundle/write-session-bundle.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { walkTree } from '../../src/transfer/tree-walk.js'
import type { WorkspaceEntry } from '../../src/workspace/workspace-storage.js'
import { Workspaces } from '../../src/workspace/workspaces.js'
import { radosgwClient, radosgwUnavailableReason, s3StorageForTest, sharedRadosgw } from '../helpers/radosgw.js'
import { tempDir } from '../helpers/temp-dir.js'
import { buildBerthRoot, S_FILES } from '../migrate/fixtures/data-trees.js'

const unavailable = radosgwUnavailableReason()
if (unavailable) console.warn(unavailable)

async function sha256Of(body: Readable): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of body) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/**
 * With workspaces in S3 (several instances, no disk), an imported bundle's
 * files must land in the bucket, where every instance reads them and a
 * redeploy keeps them, not on the importing instance's local disk.
 */
describe.skipIf(unavailable !== null)('session bundles into S3 workspaces', () => {
  let client: S3Client

  beforeAll(async () => {
    client = radosgwClient(await sharedRadosgw(inject('radosgwRunDir')))
  }, 120_000)
  afterAll(() => client?.destroy())

  it("puts the bundle's files in the bucket byte for byte, nothing on local disk, and the session with them", async () => {
    const rgw = await sharedRadosgw(inject('radosgwRunDir'))
    const source = await tempDir()
    await buildBerthRoot(source)
    const bundle = join(await tempDir(), 's.tar.gz')
    const from = await SqliteStore.open({ file: join(source, 'events.db') })
    await writeSessionBundle(
      from,
      new Workspaces({ root: join(source, 'workspace'), quotaBytes: null }).storage,
      S_FILES,
      createWriteStream(bundle),
    )
    await from.close()

    const target = await tempDir()
    const store = await SqliteStore.open({ file: join(target, 'events.db') })
    const workspaces = new Workspaces({ root: join(target, 'workspace'), quotaBytes: null })
    const { storage: s3 } = await s3StorageForTest(rgw, client, {
      label: 'bundle-import',
      index: store.workspaceFiles(),
    })
    try {
      const result = await importSessionBundle(store, workspaces, createReadStream(bundle), { storage: s3 })
      expect(result).toMatchObject({ sessionId: S_FILES, remapped: false, events: 2 })
      expect(await store.countEvents(S_FILES)).toBe(2)
      expect(existsSync(join(target, 'workspace', S_FILES))).toBe(false)

      const stored: WorkspaceEntry[] = []
      for await (const entry of s3.list(S_FILES)) if (entry.type === 'file') stored.push(entry)
      const files = (await walkTree(join(source, 'workspace', S_FILES))).filter((entry) => entry.type === 'file')
      expect(stored.map((entry) => entry.path).sort()).toEqual(files.map((entry) => entry.path).sort())
      expect(stored).toHaveLength(5)
      for (const entry of stored) {
        const original = await readFile(join(source, 'workspace', S_FILES, ...entry.path.split('/')))
        const read = await s3.read(S_FILES, entry.path)
        expect(await sha256Of(read.body), entry.path).toBe(createHash('sha256').update(original).digest('hex'))
      }
      // The bucket keeps no links: the two symlinks of the bundle are not among the files.
      expect(stored.some((entry) => entry.path.endsWith('-link'))).toBe(false)
    } finally {
      await store.close()
    }
  })
})

import { readdir, readFile, statfs, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { REFERENCE_DDL } from '../helpers/ii-agent-schema.js'
import { tryMount, unmount } from '../helpers/mount.js'
import { tempDir } from '../helpers/temp-dir.js'

const mounted: string[] = []
afterEach(() => {
  for (const dir of mounted.splice(0)) unmount(dir)
})

describe('upgrading on a full disk', () => {
  it('fails with DISK_FULL, removes its incomplete backup copy and leaves the database as it was', async (ctx) => {
    const disk = join(await tempDir(), 'disk')
    if (!tryMount(disk, 'size=8m')) ctx.skip('cannot mount a tmpfs here (needs root on Linux)')
    mounted.push(disk)
    const file = join(disk, 'events.db')
    const db = new Database(file)
    db.exec(REFERENCE_DDL)
    db.prepare("INSERT INTO session (id, workspace_dir) VALUES ('s1', '/w/s1')").run()
    const event = db.prepare("INSERT INTO event (id, session_id, event_type, event_payload) VALUES (?, 's1', 'x', ?)")
    db.transaction(() => {
      for (let i = 0; i < 3000; i++) event.run(`e${i}`, `{"n": ${i}, "pad": "${'p'.repeat(1000)}"}`)
    })()
    db.close()
    // Leave room for the WAL index and a little more, not for a full copy.
    const { bavail, bsize } = await statfs(disk)
    const fileSize = (await readFile(file)).length
    await writeFile(join(disk, 'ballast'), Buffer.alloc(Math.max(0, bavail * bsize - Math.floor(fileSize / 2))))
    const before = await readFile(file)

    await expect(SqliteStore.open({ file })).rejects.toSatisfy((e) => isBerthError(e, 'DISK_FULL'))
    expect((await readdir(disk)).filter((name) => name.includes('.backup-'))).toEqual([])
    const after = new Database(file, { readonly: true })
    expect(after.prepare('SELECT count(*) FROM event').pluck().get()).toBe(3000)
    expect(after.prepare("SELECT count(*) FROM pragma_table_info('event') WHERE name = 'seq'").pluck().get()).toBe(0)
    after.close()
    // Only the journal-mode bytes of the header may differ (the store switched the file to WAL first).
    const now = await readFile(file)
    expect(now.subarray(100).equals(before.subarray(100))).toBe(true)
  })
})

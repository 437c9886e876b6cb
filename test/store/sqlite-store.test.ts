import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { tempDir } from '../helpers/temp-dir.js'

// What every backend must do is in store-contract.ts (run on SQLite by sqlite-contract.test.ts);
// these cases need SQLite itself: a second connection to the file, a file that is not a database.

async function openTemp(): Promise<{ store: SqliteStore; file: string; dir: string }> {
  const dir = await tempDir()
  const file = join(dir, 'events.db')
  return { store: await SqliteStore.open({ file }), file, dir }
}

async function session(store: SqliteStore, id: string, deviceId = 'dev-1', createdAt?: string) {
  return store.createSession({ id, workspaceDir: `/data/workspace/${id}`, deviceId, createdAt })
}

describe('SqliteStore', () => {
  it('publishes an event to followers only after it is committed', async () => {
    const { store, file } = await openTemp()
    await session(store, 'p')
    // Another connection sees only committed data (WAL), so if it can read the
    // event from inside the listener, the commit happened before the publish.
    const other = new Database(file, { readonly: true })
    const visible = other.prepare('SELECT seq FROM event WHERE session_id = ?').pluck()
    const seenAtPublish: number[][] = []
    store.follow('p', 0, () => seenAtPublish.push(visible.all('p') as number[]))
    await new Promise((r) => setImmediate(r))
    await Promise.all([1, 2, 3].map((n) => store.append('p', { type: 'agent_response', content: { n } })))
    await new Promise((r) => setImmediate(r))
    expect(seenAtPublish).toEqual([
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ])
    other.close()
    await store.close()
  })

  it('refuses a file that is not a database and leaves it untouched', async () => {
    const dir = await tempDir()
    const file = join(dir, 'events.db')
    await writeFile(file, 'this is not sqlite at all, just text\n'.repeat(200))
    const before = await readFile(file)
    await expect(SqliteStore.open({ file })).rejects.toSatisfy(
      (e) => isBerthError(e, 'DATABASE_UNREADABLE') && e.message.includes(file) && e.message.includes('berth doctor'),
    )
    expect((await readFile(file)).equals(before)).toBe(true)
  })
})

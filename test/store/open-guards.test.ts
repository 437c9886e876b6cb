import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { REFERENCE_DDL } from '../helpers/ii-agent-schema.js'
import { tempDir } from '../helpers/temp-dir.js'

/** An ii-agent database big enough to span many pages (about 1.5 MB). */
function buildReferenceDb(file: string): void {
  const db = new Database(file)
  db.exec(REFERENCE_DDL)
  const session = db.prepare('INSERT INTO session (id, workspace_dir, created_at, device_id) VALUES (?, ?, ?, ?)')
  const event = db.prepare(
    'INSERT INTO event (id, session_id, timestamp, event_type, event_payload) VALUES (?, ?, ?, ?, ?)',
  )
  db.transaction(() => {
    for (let s = 0; s < 50; s++) {
      session.run(`s${s}`, `/w/s${s}`, '2025-01-01 00:00:00.000000', 'dev')
      for (let e = 0; e < 40; e++) {
        event.run(
          `s${s}-e${e}`,
          `s${s}`,
          '2025-01-01 00:00:01.000000',
          'tool_result',
          `{"result": "${'x'.repeat(500)}"}`,
        )
      }
    }
  })()
  db.close()
}

/** Open must fail with DATABASE_UNREADABLE and leave the file and its folder exactly as they were. */
async function expectRefusedUntouched(file: string, reason: RegExp): Promise<void> {
  const dir = join(file, '..')
  const bytes = await readFile(file)
  const { mtimeMs } = await stat(file)
  const siblings = await readdir(dir)
  await expect(SqliteStore.open({ file })).rejects.toSatisfy(
    (e) => isBerthError(e, 'DATABASE_UNREADABLE') && e.message.includes(file) && reason.test(e.message),
  )
  expect((await readFile(file)).equals(bytes)).toBe(true)
  expect((await stat(file)).mtimeMs).toBe(mtimeMs)
  // No -wal, -shm, backup or fingerprint appeared beside it.
  expect(await readdir(dir)).toEqual(siblings)
}

describe('opening a database that cannot be used', () => {
  it('refuses a truncated ii-agent database before writing anything', async () => {
    const dir = await tempDir()
    const file = join(dir, 'events.db')
    buildReferenceDb(file)
    const { size } = await stat(file)
    expect(size).toBeGreaterThan(1_000_000)
    // Cut it in half: page 1 is intact, so SQLite alone would open it and switch it to WAL.
    await truncate(file, Math.floor(size / 2 / 4096) * 4096)
    await expectRefusedUntouched(file, /truncated/)
  })

  it('refuses a file that is not SQLite, leaving its bytes and mtime alone', async () => {
    const dir = await tempDir()
    const file = join(dir, 'events.db')
    await writeFile(file, 'this is not sqlite at all, just text\n'.repeat(200))
    await expectRefusedUntouched(file, /berth doctor/)
  })

  it('refuses a file shorter than a SQLite header', async () => {
    const dir = await tempDir()
    const file = join(dir, 'events.db')
    await writeFile(file, 'SQLite format 3\u0000\u0010\u0000')
    await expectRefusedUntouched(file, /shorter than a SQLite header/)
  })
})

describe('connection settings', () => {
  it('opens new and upgraded databases with WAL, synchronous=FULL and foreign keys on', async () => {
    const dir = await tempDir()
    const fresh = await SqliteStore.open({ file: join(dir, 'new.db') })
    expect(fresh.connectionSettings()).toEqual({ journalMode: 'wal', synchronous: 'FULL', foreignKeys: true })
    await fresh.close()

    const file = join(dir, 'events.db')
    buildReferenceDb(file)
    const upgraded = await SqliteStore.open({ file })
    expect(upgraded.connectionSettings()).toEqual({ journalMode: 'wal', synchronous: 'FULL', foreignKeys: true })
    await upgraded.close()
  })
})

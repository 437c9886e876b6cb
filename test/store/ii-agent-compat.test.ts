import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { LATEST_SCHEMA } from '../../src/store/migrations.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { REFERENCE_DDL } from '../helpers/ii-agent-schema.js'
import { tempDir } from '../helpers/temp-dir.js'

const S1 = '3f2b8c1e-6a4d-4c2e-9b1a-0d7e5f4a3c21'
const S2 = 'a1b2c3d4-e5f6-4789-8abc-def012345678'

// Payloads as Python's json.dumps writes them: ", " and ": " separators, ensure_ascii.
const EVENTS = [
  [
    S1,
    'e0000001-0000-4000-8000-000000000001',
    '2025-07-11 08:11:12.283688',
    'user_message',
    '{"type": "user_message", "content": {"text": "Build a caf\\u00e9 site \\ud83d\\ude80", "files": []}}',
  ],
  [
    S1,
    'e0000001-0000-4000-8000-000000000002',
    '2025-07-11 08:11:13.000001',
    'tool_call',
    '{"type": "tool_call", "content": {"tool_call_id": "call_1", "tool_name": "bash", "tool_input": {"command": "ls"}}}',
  ],
  [
    S1,
    'e0000001-0000-4000-8000-000000000003',
    '2025-07-11 08:11:14.500000',
    'tool_result',
    '{"type": "tool_result", "content": {"tool_call_id": "call_1", "tool_name": "bash", "result": "index.html\\n"}}',
  ],
  [
    S1,
    'e0000001-0000-4000-8000-000000000004',
    '2025-07-11 08:11:15.999999',
    'agent_response',
    '{"type": "agent_response", "content": {"text": "\\u65e5\\u672c\\u8a9e done"}}',
  ],
  [
    S2,
    'e0000002-0000-4000-8000-000000000001',
    '2025-07-12 09:00:00.000000',
    'user_message',
    '{"type": "user_message", "content": {"text": "second"}}',
  ],
] as const

/** A backup file, not the fingerprint file written beside it. */
const isBackup = (name: string) => name.startsWith('events.db.backup-') && !name.endsWith('.fingerprint')

async function buildReferenceDb(file: string, withSummary = true): Promise<void> {
  const db = new Database(file)
  db.pragma('journal_mode = delete')
  const ddl = withSummary ? REFERENCE_DDL : REFERENCE_DDL.replace('\tsummary VARCHAR, \n', '')
  db.exec(ddl)
  const insertSession = db.prepare(
    withSummary
      ? 'INSERT INTO session (id, workspace_dir, created_at, device_id, summary) VALUES (?, ?, ?, ?, ?)'
      : 'INSERT INTO session (id, workspace_dir, created_at, device_id) VALUES (?, ?, ?, ?)',
  )
  const sessions = [
    [S1, `/var/data/workspace/${S1}`, '2025-07-11 08:11:10.123456', 'device-a', 'Cafe site'],
    [S2, `/opt/render/project/src/workspace/${S2}`, '2025-07-12 08:59:59.000000', 'device-a', null],
  ] as const
  for (const row of sessions) insertSession.run(...(withSummary ? row : row.slice(0, 4)))
  const insertEvent = db.prepare(
    'INSERT INTO event (id, session_id, timestamp, event_type, event_payload) VALUES (?, ?, ?, ?, ?)',
  )
  // Insert out of time order: berth must order by time, not by insertion.
  for (const index of [0, 2, 1, 3, 4]) {
    const [sessionId, id, timestamp, type, payload] = EVENTS[index] as (typeof EVENTS)[number]
    insertEvent.run(id, sessionId, timestamp, type, payload)
  }
  db.close()
}

describe('opening an ii-agent events.db', () => {
  it('migrates it in place after a backup, lists its sessions and reads its events byte-exact', async () => {
    const dir = await tempDir()
    const file = join(dir, 'events.db')
    await buildReferenceDb(file)
    const original = await readFile(file)

    const store = await SqliteStore.open({ file })
    expect((await store.schemaState()).applied.at(-1)).toBe(LATEST_SCHEMA)

    const backups = (await readdir(dir)).filter(isBackup)
    expect(backups).toHaveLength(1)
    // The backup is the untouched reference database.
    const backup = new Database(join(dir, backups[0] as string), { readonly: true })
    expect(backup.prepare('SELECT count(*) FROM event').pluck().get()).toBe(5)
    expect(backup.prepare("SELECT count(*) FROM pragma_table_info('event') WHERE name = 'seq'").pluck().get()).toBe(0)
    backup.close()
    expect(original.subarray(0, 16).toString()).toBe('SQLite format 3\u0000')

    const { items } = await store.listSessions('device-a')
    expect(items.map((s) => [s.id, s.summary, s.firstMessage, s.createdAt, s.workspaceDir])).toEqual([
      [S2, null, 'second', '2025-07-12 08:59:59.000000', `/opt/render/project/src/workspace/${S2}`],
      [S1, 'Cafe site', 'Build a café site 🚀', '2025-07-11 08:11:10.123456', `/var/data/workspace/${S1}`],
    ])

    const { events } = await store.readEvents(S1)
    expect(events.map((e) => [e.sessionId, e.id, e.timestamp, e.type, e.payload])).toEqual(
      EVENTS.filter((e) => e[0] === S1).map((e) => [...e]),
    )
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4])

    // New events continue the numbering and use the same on-disk format.
    const next = await store.append(S1, { type: 'user_message', content: { text: 'encore un café' } })
    expect(next.seq).toBe(5)
    expect(next.payload).toBe('{"type": "user_message", "content": {"text": "encore un caf\\u00e9"}}')
    await store.close()

    // The reference columns are still there, unchanged in name and type.
    const raw = new Database(file, { readonly: true })
    const columns = raw.prepare("SELECT name, type FROM pragma_table_info('session')").all()
    expect(columns.slice(0, 5)).toEqual([
      { name: 'id', type: 'VARCHAR(36)' },
      { name: 'workspace_dir', type: 'VARCHAR' },
      { name: 'created_at', type: 'DATETIME' },
      { name: 'device_id', type: 'VARCHAR' },
      { name: 'summary', type: 'VARCHAR' },
    ])
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal')
    raw.close()

    // Reopening migrates nothing and takes no new backup.
    const again = await SqliteStore.open({ file })
    await again.close()
    expect((await readdir(dir)).filter(isBackup)).toHaveLength(1)
  })

  it('adds the summary column to a database from before it existed', async () => {
    const dir = await tempDir()
    const file = join(dir, 'events.db')
    await buildReferenceDb(file, false)
    const store = await SqliteStore.open({ file })
    expect((await store.setSummary(S1, 'Now summarised')).summary).toBe('Now summarised')
    await store.close()
  })

  it('refuses a database from a newer berth and changes nothing', async () => {
    const dir = await tempDir()
    const file = join(dir, 'events.db')
    const store = await SqliteStore.open({ file })
    await store.close()
    const db = new Database(file)
    db.prepare("INSERT INTO kysely_migration (name, timestamp) VALUES ('9999_from_the_future', '2030-01-01')").run()
    db.close()
    const hash = createHash('sha256')
      .update(await readFile(file))
      .digest('hex')
    await expect(SqliteStore.open({ file })).rejects.toSatisfy(
      (e) => isBerthError(e, 'DATABASE_TOO_NEW') && e.message.includes('9999_from_the_future'),
    )
    expect(
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex'),
    ).toBe(hash)
  })
})

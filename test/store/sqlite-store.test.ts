import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { StoredEvent } from '../../src/store/types.js'
import { tempDir } from '../helpers/temp-dir.js'

async function openTemp(): Promise<{ store: SqliteStore; file: string; dir: string }> {
  const dir = await tempDir()
  const file = join(dir, 'events.db')
  return { store: await SqliteStore.open({ file }), file, dir }
}

async function session(store: SqliteStore, id: string, deviceId = 'dev-1', createdAt?: string) {
  return store.createSession({ id, workspaceDir: `/data/workspace/${id}`, deviceId, createdAt })
}

describe('SqliteStore', () => {
  it('creates, gets, renames, summarises and deletes sessions', async () => {
    const { store } = await openTemp()
    const created = await session(store, 's1')
    expect(created).toMatchObject({ id: 's1', deviceId: 'dev-1', status: 'idle', summary: null, name: null })
    expect(created.createdAt).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/)
    await expect(session(store, 's1')).rejects.toSatisfy((e) => isBerthError(e, 'SESSION_EXISTS'))
    expect((await store.renameSession('s1', 'My task')).name).toBe('My task')
    expect((await store.setSummary('s1', 'Short summary')).summary).toBe('Short summary')
    await store.append('s1', { type: 'user_message', content: { text: 'hi' } })
    expect(await store.deleteSession('s1')).toEqual({ eventsDeleted: 1 })
    expect(await store.getSession('s1')).toBeNull()
    await expect(store.renameSession('s1', 'x')).rejects.toSatisfy((e) => isBerthError(e, 'SESSION_NOT_FOUND'))
    await store.close()
  })

  it('numbers events per session and pages through them without a cap', async () => {
    const { store } = await openTemp()
    await session(store, 'a')
    await session(store, 'b')
    const appends: Promise<StoredEvent>[] = []
    for (let i = 0; i < 2500; i++) {
      appends.push(store.append(i % 2 === 0 ? 'a' : 'b', { type: 'tool_result', content: { i } }))
    }
    const stored = await Promise.all(appends)
    expect(stored.filter((e) => e.sessionId === 'a').map((e) => e.seq)).toEqual(
      Array.from({ length: 1250 }, (_, i) => i + 1),
    )
    const seen: number[] = []
    let after = 0
    for (;;) {
      const page = await store.readEvents('a', { after, limit: 400 })
      seen.push(...page.events.map((e) => JSON.parse(e.payload).content.i as number))
      if (page.nextAfter === null) break
      after = page.nextAfter
    }
    expect(seen).toEqual(Array.from({ length: 1250 }, (_, i) => i * 2))
    await store.close()
  })

  it('writes payloads the way the reference system does and round-trips unicode exactly', async () => {
    const { store } = await openTemp()
    await session(store, 'u')
    const text = 'é 日本語 🚀 "quoted" \\ \n tab\t'
    const stored = await store.append('u', { type: 'user_message', content: { text, files: [] } })
    expect(stored.payload).toBe(
      '{"type": "user_message", "content": {"text": "\\u00e9 \\u65e5\\u672c\\u8a9e \\ud83d\\ude80 \\"quoted\\" \\\\ \\n tab\\t", "files": []}}',
    )
    const [read] = (await store.readEvents('u')).events
    expect(JSON.parse(read?.payload ?? '').content.text).toBe(text)
    await store.close()
  })

  it('moves a session’s updated time with its appends, at most a second behind', async () => {
    const { store } = await openTemp()
    await session(store, 'old', 'dev-1', '2020-01-01 00:00:00.000000')
    const first = await store.append('old', { type: 'user_message', content: { text: 'hi' } })
    expect((await store.getSession('old'))?.updatedAt).toBe(first.timestamp)
    const later = await store.append('old', { type: 'agent_response', content: { text: 'hello' } })
    const updatedAt = (await store.getSession('old'))?.updatedAt ?? ''
    expect(Date.parse(`${later.timestamp}Z`) - Date.parse(`${updatedAt}Z`)).toBeLessThan(1000)
    await store.close()
  })

  it('fails an append to a missing session alone, without harming the batch it shared', async () => {
    const { store } = await openTemp()
    await session(store, 'ok')
    const results = await Promise.allSettled([
      store.append('ok', { type: 'agent_response', content: { text: '1' } }),
      store.append('missing', { type: 'agent_response', content: { text: 'x' } }),
      store.append('ok', { type: 'agent_response', content: { text: '2' } }),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(isBerthError((results[1] as PromiseRejectedResult).reason, 'SESSION_NOT_FOUND')).toBe(true)
    expect((await store.readEvents('ok')).events.map((e) => e.seq)).toEqual([1, 2])
    await store.close()
  })

  it('lists a device’s sessions newest first with their first message, paged by cursor', async () => {
    const { store } = await openTemp()
    for (let i = 0; i < 120; i++) {
      const id = `s${String(i).padStart(3, '0')}`
      await session(
        store,
        id,
        'dev-1',
        `2025-01-01 00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(6, '0')}`,
      )
      await store.append(id, { type: 'system', content: { message: 'start' } })
      await store.append(id, { type: 'user_message', content: { text: `task ${i}` } })
      await store.append(id, { type: 'user_message', content: { text: `later ${i}` } })
    }
    await session(store, 'other', 'dev-2')
    const ids: string[] = []
    let cursor: string | null = null
    do {
      const page = await store.listSessions('dev-1', { limit: 50, cursor })
      expect(page.items.length).toBeLessThanOrEqual(50)
      for (const item of page.items) expect(item.firstMessage).toBe(`task ${Number(item.id.slice(1))}`)
      ids.push(...page.items.map((s) => s.id))
      cursor = page.nextCursor
    } while (cursor)
    const expected = Array.from({ length: 120 }, (_, i) => `s${String(i).padStart(3, '0')}`).sort((x, y) => {
      const cx = `${Number(x.slice(1)) % 60}`.padStart(2, '0') + x.slice(1)
      const cy = `${Number(y.slice(1)) % 60}`.padStart(2, '0') + y.slice(1)
      return cy.localeCompare(cx)
    })
    expect(ids).toEqual(expected)
    await expect(store.listSessions('dev-1', { cursor: 'garbage' })).rejects.toSatisfy((e) =>
      isBerthError(e, 'INVALID_CURSOR'),
    )
    await store.close()
  })

  it('follows a session: backlog after the cursor, then live events, no gap and no duplicate', async () => {
    const { store } = await openTemp()
    await session(store, 'f')
    for (let i = 1; i <= 1200; i++) await store.append('f', { type: 'tool_result', content: { i } })
    const received: number[] = []
    const done = new Promise<void>((resolve) => {
      store.follow('f', 300, (event) => {
        received.push(event.seq)
        if (event.seq === 2000) resolve()
      })
    })
    // Appends race with the catch-up.
    for (let i = 1201; i <= 2000; i++) void store.append('f', { type: 'tool_result', content: { i } })
    await done
    expect(received).toEqual(Array.from({ length: 1700 }, (_, i) => i + 301))
    await store.close()
  })

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

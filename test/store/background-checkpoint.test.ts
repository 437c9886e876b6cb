import { statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { tempDir } from '../helpers/temp-dir.js'

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (condition()) return true
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return condition()
}

describe('background WAL checkpoint', () => {
  it('copies committed pages into the database file while appends go on, and closes cleanly', async () => {
    const dir = await tempDir()
    const file = join(dir, 'events.db')
    const errors: Error[] = []
    const store = await SqliteStore.open({ file, onCheckpointError: (error) => errors.push(error) })
    await store.createSession({ id: 's', workspaceDir: '/w/s', deviceId: 'd' })
    const sizeAtStart = statSync(file).size
    const text = 'x'.repeat(2000)
    // In WAL mode only a checkpoint writes the database file; the writer's own
    // automatic checkpoint would wait for 8,000 pages (32 MB), far beyond these ~2 MB.
    for (let i = 0; i < 1000; i++) await store.append('s', { type: 'tool_result', content: { i, text } })
    expect(await waitFor(() => statSync(file).size > sizeAtStart + 1_000_000, 5000)).toBe(true)
    await store.close()
    expect(errors).toEqual([])

    const reopened = new Database(file, { readonly: true })
    expect(reopened.prepare("SELECT count(*) AS n FROM event WHERE session_id = 's'").get()).toEqual({ n: 1000 })
    expect(reopened.pragma('integrity_check', { simple: true })).toBe('ok')
    reopened.close()
  })
})

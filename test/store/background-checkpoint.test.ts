import { statSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { describe, expect, it, vi } from 'vitest'
import { BackgroundCheckpointer } from '../../src/store/sqlite/background-checkpointer.js'
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

  it('holds on to its thread from stop() until the thread has exited, even when a checkpoint ends meanwhile', async () => {
    // Were the thread let go (unref'd) while stop() waits for its exit, a process with nothing else to do
    // would end right there, close() unsettled (exit code 13; seen in bench:store).
    const file = join(await tempDir(), 'events.db')
    const db = new Database(file)
    db.pragma('journal_mode = WAL')
    db.pragma('wal_autocheckpoint = 0')
    db.exec('CREATE TABLE t (x)')
    const insert = db.prepare('INSERT INTO t VALUES (?)')
    for (let i = 0; i < 2000; i++) insert.run('x'.repeat(2000))
    const checkpointer = new BackgroundCheckpointer(file)
    for (let i = 0; i < 64; i++) checkpointer.nudge() // the 64th starts the thread and a checkpoint
    let stopping = false
    const unref = Worker.prototype.unref
    const unrefsWhileStopping: number[] = []
    const spy = vi.spyOn(Worker.prototype, 'unref').mockImplementation(function (this: Worker) {
      if (stopping) unrefsWhileStopping.push(this.threadId)
      return unref.call(this)
    })
    try {
      stopping = true
      await checkpointer.stop() // the checkpoint's result arrives before the thread's exit
    } finally {
      spy.mockRestore()
      db.close()
    }
    expect(unrefsWhileStopping).toEqual([])
  })
})

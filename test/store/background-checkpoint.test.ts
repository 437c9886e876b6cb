import { spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { tempDir } from '../helpers/temp-dir.js'
import { TSX_IMPORT } from '../helpers/tsx.js'

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src')

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

  it('lets a process end on its own after being stopped mid-checkpoint', async () => {
    // Nothing but the checkpointer keeps this child alive: were its thread let go (unref'd) while
    // stop() waits for it to exit, the child would end with stop() unsettled (exit code 13).
    const file = join(await tempDir(), 'events.db')
    const script = `
      import Database from 'better-sqlite3'
      import { BackgroundCheckpointer } from ${JSON.stringify(pathToFileURL(join(SOURCE, 'store/sqlite/background-checkpointer.ts')).href)}
      const db = new Database(${JSON.stringify(file)})
      db.pragma('journal_mode = WAL')
      db.pragma('wal_autocheckpoint = 0')
      db.exec('CREATE TABLE t (x)')
      const insert = db.prepare('INSERT INTO t VALUES (?)')
      for (let i = 0; i < 5000; i++) insert.run('x'.repeat(2000))
      const checkpointer = new BackgroundCheckpointer(${JSON.stringify(file)})
      for (let i = 0; i < 64; i++) checkpointer.nudge() // the 64th starts the thread and a checkpoint
      await checkpointer.stop()
      db.close()
      console.log('stopped')
    `
    const child = spawnSync(process.execPath, ['--import', TSX_IMPORT, '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect({ status: child.status, stdout: child.stdout.trim(), stderr: child.stderr }).toEqual({
      status: 0,
      stdout: 'stopped',
      stderr: '',
    })
  })
})

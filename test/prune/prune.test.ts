import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { dbTimestamp } from '../../src/core/time.js'
import { parseDuration } from '../../src/prune/parse-duration.js'
import { planPrune, pruneSessions } from '../../src/prune/prune-sessions.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { SessionRecord, StoredEvent } from '../../src/store/types.js'
import { Workspaces } from '../../src/workspace/workspaces.js'
import { tempDir } from '../helpers/temp-dir.js'
import { startTransferCli } from '../migrate/fixtures/transfer-cli-process.js'

const OLD = 'aaaaaaaa-0000-4000-8000-000000000001'
const OLD_RUNNING = 'aaaaaaaa-0000-4000-8000-000000000002'
const RECENT = 'aaaaaaaa-0000-4000-8000-000000000003'
const NOW = new Date('2025-09-01T00:00:00Z')

/** Three sessions: idle since January 2025, idle as long but marked running, active right now. */
async function buildRoot(root: string) {
  const store = await SqliteStore.open({ file: join(root, 'events.db') })
  const workspaces = new Workspaces({ root: join(root, 'workspace'), quotaBytes: null })
  const add = async (id: string, when: string, status: SessionRecord['status']) => {
    const session: SessionRecord = {
      id,
      workspaceDir: join(root, 'workspace', id),
      createdAt: when,
      deviceId: 'd',
      summary: null,
      name: `session ${id.slice(-1)}`,
      runOwner: null,
      status,
      updatedAt: when,
      label: null,
    }
    const events: StoredEvent[] = [1, 2, 3].map((seq) => ({
      id: `${id.slice(0, -4)}${seq}${id.slice(-3)}`,
      sessionId: id,
      seq,
      timestamp: when,
      type: 'user_message',
      payload: '{"type": "user_message", "content": {"text": "hi"}}',
    }))
    expect((await store.mergeSession({ session, events })).outcome).toBe('inserted')
    await mkdir(join(root, 'workspace', id, 'uploaded_files'), { recursive: true })
    await writeFile(join(root, 'workspace', id, 'uploaded_files', 'a.bin'), Buffer.alloc(10_000))
  }
  await add(OLD, '2025-01-05 10:00:00.000000', 'idle')
  await add(OLD_RUNNING, '2025-01-06 10:00:00.000000', 'running')
  await add(RECENT, dbTimestamp(), 'idle')
  return { store, workspaces }
}

describe('berth prune', () => {
  it('lists exactly what it deletes, deletes it and frees it; running and recent sessions stay', async () => {
    const root = await tempDir()
    const { store, workspaces } = await buildRoot(root)
    const plan = await planPrune(store, workspaces, { olderThanMs: parseDuration('30d'), now: NOW })
    expect(plan.cutoff).toBe('2025-08-02 00:00:00.000000')
    expect(plan.running).toEqual([OLD_RUNNING])
    expect(plan.candidates).toEqual([
      {
        id: OLD,
        name: 'session 1',
        summary: null,
        lastActive: '2025-01-05 10:00:00.000000',
        events: 3,
        folder: join(root, 'workspace', OLD),
        bytes: 10_000,
      },
    ])
    const freed = await pruneSessions(store, workspaces, plan.candidates)
    expect(freed).toEqual({ sessions: 1, events: 3, bytes: 10_000 })
    expect(await store.getSession(OLD)).toBeNull()
    expect((await store.readEvents(OLD)).events).toEqual([])
    expect((await readdir(join(root, 'workspace'))).sort()).toEqual([OLD_RUNNING, RECENT])
    expect((await store.counts()).events).toBe(6)
    await store.close()
  })

  it('--dry-run on the command line deletes nothing; without it the listed sessions go', async () => {
    const root = await tempDir()
    const { store } = await buildRoot(root)
    await store.close()
    const env = { BERTH_DATA_DIR: root }
    const dry = startTransferCli(['prune', '--older-than', '100d', '--dry-run'], { cwd: root, env })
    expect(await dry.exited).toBe(0)
    expect(dry.output().stdout).toMatch(/Would delete 1 sessions idle since before .*: 3 events, 9\.8 KB of files\./)
    expect(dry.output().stdout).toContain(`${OLD}  last active 2025-01-05 10:00:00.000000  3 events  9.8 KB  session 1`)
    expect(dry.output().stdout).toContain(`kept ${OLD_RUNNING}: a run is marked as going on`)
    expect((await readdir(join(root, 'workspace'))).length).toBe(3)

    const real = startTransferCli(['prune', '--older-than', '100d', '--json'], { cwd: root, env })
    expect(await real.exited).toBe(0)
    expect(JSON.parse(real.output().stdout).freed).toEqual({ sessions: 1, events: 3, bytes: 10_000 })
    expect((await readdir(join(root, 'workspace'))).sort()).toEqual([OLD_RUNNING, RECENT].sort())
  })

  it('needs an explicit age with a unit', () => {
    expect(parseDuration('12h')).toBe(12 * 3600 * 1000)
    expect(parseDuration('2w')).toBe(14 * 24 * 3600 * 1000)
    for (const bad of ['30', 'forever', '-1d', '']) {
      let error: unknown
      try {
        parseDuration(bad)
      } catch (e) {
        error = e
      }
      expect(isBerthError(error, 'DURATION_INVALID')).toBe(true)
    }
  })
})

import { spawn } from 'node:child_process'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { recoverInterruptedRuns, runOwnerAlive } from '../../src/agent/run-endings.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { tempDir } from '../helpers/temp-dir.js'

describe('recovery leaves runs of live processes alone', () => {
  it('marks a session interrupted only once the process that runs it is gone', async () => {
    const store = await SqliteStore.open({ file: join(await tempDir(), 'events.db') })
    const other = spawn('sleep', ['30'])
    const owner = `${hostname()}/${other.pid}`
    await store.createSession({ id: 'cli-run', workspaceDir: '/w/cli-run', deviceId: 'cli' })
    await store.setStatus('cli-run', 'running', owner)
    expect((await store.getSession('cli-run'))?.runOwner).toBe(owner)
    expect(runOwnerAlive(owner)).toBe(true)

    const logger = pino({ level: 'silent' })
    expect(await recoverInterruptedRuns(store, () => false, logger)).toBe(0)
    expect((await store.getSession('cli-run'))?.status).toBe('running')

    other.kill('SIGKILL')
    await new Promise((resolve) => other.once('exit', resolve))
    expect(runOwnerAlive(owner)).toBe(false)
    expect(await recoverInterruptedRuns(store, () => false, logger)).toBe(1)
    const session = await store.getSession('cli-run')
    expect(session).toMatchObject({ status: 'interrupted', runOwner: null })
    expect((await store.readEvents('cli-run')).events.map((e) => e.type)).toEqual([
      'agent_response_interrupted',
      'stream_complete',
    ])
    // Another host's owner cannot be checked from here: treated as gone.
    expect(runOwnerAlive('some-other-host/1')).toBe(false)
    await store.close()
  })
})

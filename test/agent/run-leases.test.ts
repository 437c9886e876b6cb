import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { AgentRunManager, type AgentRunManagerOptions } from '../../src/agent/run-manager.js'
import { isBerthError } from '../../src/core/errors.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { Workspaces } from '../../src/workspace/workspaces.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventsOf, SILENT } from './fixtures/harness.js'
import { hang, ScriptProvider, text } from './fixtures/script-provider.js'

// Two run managers over two connections to one database behave as two berth
// instances would: one owner per run, the other takes over when it stops.

const FAST = { ttlMs: 400, renewMs: 100, checkMs: 100 }
const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
})

async function instances(count: number) {
  const root = await tempDir()
  const file = join(root, 'events.db')
  const workspaces = new Workspaces({ root: join(root, 'workspace'), quotaBytes: null })
  const made = []
  for (let i = 0; i < count; i++) {
    const store = await SqliteStore.open({ file })
    cleanups.push(() => store.close())
    const manager = (options: Partial<AgentRunManagerOptions> & Pick<AgentRunManagerOptions, 'createProvider'>) => {
      const runs = new AgentRunManager({
        store,
        workspaces,
        logger: SILENT,
        config: { maxTurns: 20, maxRunTokens: null, publicUrl: undefined, port: 8000 },
        createTools: () => [],
        leaseTiming: FAST,
        ...options,
      })
      cleanups.push(() => runs.shutdown())
      return runs
    }
    made.push({ store, manager })
  }
  return { file, instances: made }
}

describe('run leases between instances', () => {
  it('two instances starting the same session: exactly one runs it, the other is told it is in progress', async () => {
    const {
      instances: [a, b],
    } = await instances(2)
    const sessionId = randomUUID()
    await a?.store.createSession({ id: sessionId, workspaceDir: sessionId, deviceId: 'd' })
    const runsA = a?.manager({ createProvider: () => new ScriptProvider([hang()]) })
    const runsB = b?.manager({ createProvider: () => new ScriptProvider([hang()]) })
    const starts = await Promise.allSettled([
      runsA?.start({ sessionId, text: 'from A' }),
      runsB?.start({ sessionId, text: 'from B' }),
    ])
    expect(starts.filter((s) => s.status === 'fulfilled')).toHaveLength(1)
    const refused = starts.find((s) => s.status === 'rejected')
    expect(isBerthError((refused as PromiseRejectedResult).reason, 'QUERY_IN_PROGRESS')).toBe(true)
    expect((await eventsOf(a!.store, sessionId)).filter((e) => e.type === 'user_message')).toHaveLength(1)
  })

  it('an owner whose lease was taken stops its run and stores nothing more', async () => {
    const {
      file,
      instances: [a, b],
    } = await instances(2)
    const sessionId = randomUUID()
    const runsA = a!.manager({ createProvider: () => new ScriptProvider([hang()]) })
    await runsA.start({ sessionId, text: 'long task', deviceId: 'd' })
    // Another instance decided A was gone: its lease is expired and claimed under a new epoch.
    const raw = new Database(file)
    raw.prepare('UPDATE session SET lease_expires_at = 0 WHERE id = ?').run(sessionId)
    raw.close()
    const taken = await b!.store.claimRun(sessionId, 'instance-b/1', 10_000)
    expect(taken).not.toBeNull()

    const outcome = await runsA.wait(sessionId)
    expect(outcome?.status).toBe('interrupted')
    expect(runsA.isRunning(sessionId)).toBe(false)
    // A's own end was refused: only the new owner writes from now on.
    expect((await eventsOf(b!.store, sessionId)).map((e) => e.type)).toEqual(['user_message'])
    expect((await b!.store.getSession(sessionId))?.runOwner).toBe('instance-b/1')
  })

  it('a run whose owner stops renewing is closed by another instance, and the session continues there', async () => {
    const {
      instances: [a, b],
    } = await instances(2)
    const sessionId = randomUUID()
    const runsA = a!.manager({ createProvider: () => new ScriptProvider([hang()]) })
    await runsA.start({ sessionId, text: 'long task', deviceId: 'd' })
    const runsB = b!.manager({ createProvider: () => new ScriptProvider([text('Picked up here.')]) })
    runsB.watchLapsedRuns()
    // A loses its database: renewals fail, so its lease lapses and it stops by itself.
    await a!.store.close()
    const started = Date.now()
    for (;;) {
      const session = await b!.store.getSession(sessionId)
      if (session?.status === 'interrupted') break
      if (Date.now() - started > 5_000) throw new Error(`still ${session?.status} after 5 s`)
      await sleep(50)
    }
    expect((await eventsOf(b!.store, sessionId)).map((e) => [e.type, e.content.reason])).toEqual([
      ['user_message', undefined],
      ['agent_response_interrupted', 'crashed'],
      ['stream_complete', undefined],
    ])
    // A stopped its run when its lease lapsed unrenewed.
    expect(runsA.isRunning(sessionId)).toBe(false)

    await runsB.start({ sessionId, text: 'go on', deviceId: 'd' })
    expect(await runsB.wait(sessionId)).toMatchObject({ status: 'completed', answer: 'Picked up here.' })
  })
})

import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { MIGRATION_NAMES } from '../../src/store/migrations.js'
import { type BerthProcess, startBerth, startServer } from '../helpers/berth-process.js'
import { REFERENCE_DDL } from '../helpers/ii-agent-schema.js'
import { tempDir } from '../helpers/temp-dir.js'

/** A small ii-agent events.db: 40 sessions (one without created_at, one without events), 25 events each. */
function buildReferenceDb(file: string): void {
  const db = new Database(file)
  db.exec(REFERENCE_DDL)
  const session = db.prepare(
    'INSERT INTO session (id, workspace_dir, created_at, device_id, summary) VALUES (?, ?, ?, ?, ?)',
  )
  const event = db.prepare(
    'INSERT INTO event (id, session_id, timestamp, event_type, event_payload) VALUES (?, ?, ?, ?, ?)',
  )
  db.transaction(() => {
    for (let s = 0; s < 40; s++) {
      const id = `00000000-0000-4000-8000-${String(s).padStart(12, '0')}`
      session.run(
        id,
        `/app/workspace/${id}`,
        s === 3 ? null : `2025-03-01 10:${String(s).padStart(2, '0')}:00.123456`,
        s === 0 ? 'device-2' : 'device-1',
        null,
      )
      if (s === 5) continue
      for (let e = 0; e < 25; e++) {
        // Pairs of events share a timestamp.
        const time = `2025-03-01 11:${String(s).padStart(2, '0')}:${String(Math.floor(e / 2)).padStart(2, '0')}.000001`
        event.run(
          `${id.slice(0, 24)}${String(s).padStart(6, '0')}${String(e).padStart(6, '0')}`,
          id,
          time,
          'tool_result',
          `{"type": "tool_result", "content": {"result": "caf\\u00e9 ${e}"}}`,
        )
      }
    }
  })()
  db.close()
}

/** The reference columns of every row, as hex of the stored bytes and their storage class. */
function referenceRows(file: string): { sessions: unknown[]; events: unknown[] } {
  const db = new Database(file, { readonly: true })
  try {
    return {
      sessions: db
        .prepare(
          'SELECT hex(id), hex(workspace_dir), typeof(created_at), hex(created_at), hex(device_id), typeof(summary) FROM session ORDER BY rowid',
        )
        .raw()
        .all(),
      events: db
        .prepare(
          'SELECT rowid, hex(id), hex(session_id), hex(timestamp), hex(event_type), hex(event_payload) FROM event ORDER BY rowid',
        )
        .raw()
        .all(),
    }
  } finally {
    db.close()
  }
}

async function files(root: string): Promise<string[]> {
  return (await readdir(root)).filter((name) => name.startsWith('events.db.backup-')).sort()
}

/** Start berth serve paused at an upgrade point; resolves once it says so, with the port it opened. */
async function startPaused(root: string, point: string): Promise<BerthProcess & { port: number }> {
  const berth = startBerth(['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', root], {
    cwd: root,
    env: { BERTH_TEST_PAUSE_AT: point, BERTH_DATA_DIR: undefined },
  })
  const [, port] = await berth.waitFor(/Port (\d+) is open/, 30_000)
  await berth.waitFor(new RegExp(`upgrade paused at ${point}`), 30_000)
  return Object.assign(berth, { port: Number(port) })
}

/** After a completed upgrade: full schema, reference rows untouched, one sound backup with the original rows. */
async function expectUpgraded(root: string, original: ReturnType<typeof referenceRows>): Promise<void> {
  const file = join(root, 'events.db')
  const db = new Database(file, { readonly: true })
  const applied = db.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all()
  const unnumbered = db.prepare('SELECT count(*) FROM event WHERE seq IS NULL').pluck().get()
  db.close()
  expect(applied).toEqual([...MIGRATION_NAMES])
  expect(unnumbered).toBe(0)
  const after = referenceRows(file)
  expect(after.events).toEqual(original.events)
  // Sessions keep every byte, except a missing created_at, which the upgrade fills in.
  expect(after.sessions.filter((_, i) => i !== 3)).toEqual(original.sessions.filter((_, i) => i !== 3))
  expect((after.sessions[3] as unknown[])[2]).toBe('text')

  const names = await files(root)
  const backups = names.filter((name) => !name.endsWith('.fingerprint'))
  expect(backups, names.join(', ')).toHaveLength(1)
  expect(names.filter((name) => name.includes('.partial-'))).toEqual([])
  const backupFile = join(root, backups[0] as string)
  const backup = new Database(backupFile, { readonly: true })
  expect(backup.pragma('integrity_check', { simple: true })).toBe('ok')
  backup.close()
  expect(referenceRows(backupFile)).toEqual(original)
}

describe('berth serve upgrading an ii-agent database', () => {
  it('answers on its port while the upgrade runs (health 200, 503 with the step for the API and WebSocket), then serves on the same port', async () => {
    const root = await tempDir()
    buildReferenceDb(join(root, 'events.db'))
    const original = referenceRows(join(root, 'events.db'))
    const paused = await startPaused(root, 'step:0002_berth_columns')
    const url = `http://127.0.0.1:${paused.port}`

    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${url}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({ ready: false, upgrading: { step: '0002_berth_columns' } })
    const api = await fetch(`${url}/api/sessions/device-1?device_id=device-1`)
    expect(api.status).toBe(503)
    const body = (await api.json()) as { code: string; message: string }
    expect(body.code).toBe('DATABASE_UPGRADING')
    expect(body.message).toMatch(/^upgrading the database: 0002_berth_columns, \d+ %$/)
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${paused.port}/ws?device_id=device-1`)
      ws.once('open', () => reject(new Error('the WebSocket opened during the upgrade')))
      ws.once('unexpected-response', (_req, res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      })
    })
    expect(refused.status).toBe(503)
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'DATABASE_UPGRADING' })
    expect(paused.output().stderr).toContain('Upgrading the database: 0002_berth_columns')

    // Killed in the middle of the step: the next start does it all and keeps the one backup.
    paused.child.kill('SIGKILL')
    await paused.exited
    const server = await startServer({ cwd: root, env: { BERTH_DATA_DIR: undefined }, args: ['--data-dir', root] })
    expect(server.output().stderr).toContain('not taking another')
    // The port that answered 503s during the upgrade is the one the app serves on.
    expect(server.output().stderr).toContain(`Port ${server.port} is open`)
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200)
    const sessions = await fetch(`${server.url}/api/sessions/device-1?device_id=device-1`)
    expect(sessions.status).toBe(200)
    expect(((await sessions.json()) as { sessions: unknown[] }).sessions).toHaveLength(39)
    // A WebSocket upgrade now reaches the app.
    const opened = await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?device_id=device-1`)
      ws.once('open', () => {
        ws.close()
        resolve(true)
      })
      ws.once('error', () => resolve(false))
    })
    expect(opened).toBe(true)
    expect(await server.stop()).toBe(0)
    await expectUpgraded(root, original)
  })

  it.each(['backup-copying', 'backup-copied', 'backup-renamed'])(
    'completes after a SIGKILL at %s, with one intact backup',
    async (point) => {
      const root = await tempDir()
      buildReferenceDb(join(root, 'events.db'))
      const original = referenceRows(join(root, 'events.db'))
      const paused = await startPaused(root, point)
      paused.child.kill('SIGKILL')
      await paused.exited
      const server = await startServer({ cwd: root, env: { BERTH_DATA_DIR: undefined }, args: ['--data-dir', root] })
      expect(await server.stop()).toBe(0)
      await expectUpgraded(root, original)
    },
  )
})

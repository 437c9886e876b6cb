import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { statSync } from 'node:fs'
import { mkdir, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { RunManager } from '../../src/agent/runs.js'
import { dbTimestamp } from '../../src/core/time.js'
import { humanSize } from '../../src/server/routes/admin.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { tempDir } from '../helpers/temp-dir.js'
import { type FileServer, json, startFileServer } from './file-routes-harness.js'

const TOKEN = 'admin-test-token-0123456789'
const AUTH = { authorization: `Bearer ${TOKEN}` }
const KB = 1024

/** A session with `events` stored events and one file of `bytes` bytes; created after everything created before it. */
async function seed(
  server: FileServer,
  id: string,
  options: { bytes?: number; events?: number; createdAt?: Date } = {},
): Promise<string> {
  const { store, workspaces } = server.context
  await store.createSession({
    id,
    workspaceDir: workspaces.dirFor(id),
    deviceId: 'dev-admin',
    createdAt: options.createdAt ? dbTimestamp(BigInt(options.createdAt.getTime()) * 1000n) : undefined,
  })
  const dir = await workspaces.create(id)
  if (options.bytes) await writeFile(join(dir, 'data.bin'), randomBytes(options.bytes))
  const count = options.events ?? 2
  if (count > 0) {
    await store.appendMany(
      id,
      Array.from({ length: count }, (_, i) => ({ type: 'user_message', content: { text: `${id} #${i}` } })),
    )
  }
  // Activity times are stored to the microsecond; a short pause keeps the order unambiguous.
  await sleep(3)
  return dir
}

async function admin(server: FileServer, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { ...init, headers: { ...AUTH, ...(init.headers ?? {}) } })
}

async function cleanup(server: FileServer, body: unknown): Promise<any> {
  const response = await admin(server, '/admin/cleanup', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(response.status).toBe(200)
  return json(response)
}

/** Every file under `dir` with its bytes, to compare a tree before and after. */
async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const full = join(entry.parentPath, entry.name)
    out[full.slice(dir.length)] = (await readFile(full)).toString('base64')
  }
  return out
}

async function eventsOf(server: FileServer, id: string): Promise<string[]> {
  const page = await server.context.store.readEvents(id, { limit: 10_000 })
  return page.events.map((event) => `${event.seq}:${event.id}:${event.payload}`)
}

describe('admin routes: access', () => {
  it('answer 503 ADMIN_NOT_CONFIGURED when BERTH_AUTH_TOKEN is unset, whatever is presented, and change nothing', async () => {
    const server = await startFileServer()
    await seed(server, 'keep-1', { bytes: 4 * KB })
    for (const [method, path] of [
      ['GET', '/admin/stats'],
      ['POST', '/admin/cleanup'],
      ['GET', '/admin/download_data'],
    ] as const) {
      const response = await fetch(`${server.url}${path}?admin_key=${TOKEN}`, { method, headers: AUTH })
      expect(response.status).toBe(503)
      expect((await json(response)).code).toBe('ADMIN_NOT_CONFIGURED')
    }
    expect(await server.context.store.getSession('keep-1')).not.toBeNull()
    expect(await server.context.store.counts()).toEqual({ sessions: 1, events: 2 })
  })

  it('answer 401 without the token, with a wrong one, and with the reference-only ways; 200 with Bearer or cookie', async () => {
    const server = await startFileServer({ BERTH_AUTH_TOKEN: TOKEN })
    await seed(server, 'keep-2', { bytes: 4 * KB })
    const refusals: [string, RequestInit][] = [
      ['/admin/stats', {}],
      ['/admin/stats', { headers: { authorization: 'Bearer wrong-token-0123456789abcdef' } }],
      ['/admin/stats', { headers: { authorization: `Bearer ${TOKEN}x` } }],
      // The reference also took ?admin_key= and a bare Authorization header; berth does not.
      [`/admin/stats?admin_key=${TOKEN}`, {}],
      ['/admin/stats', { headers: { authorization: TOKEN } }],
      ['/admin/cleanup', { method: 'POST' }],
      ['/admin/download_data', {}],
    ]
    for (const [path, init] of refusals) {
      const response = await fetch(`${server.url}${path}`, init)
      expect(response.status, path).toBe(401)
      expect((await json(response)).code).toBe('AUTH_REQUIRED')
    }
    expect(await server.context.store.getSession('keep-2')).not.toBeNull()

    expect((await fetch(`${server.url}/admin/stats`, { headers: AUTH })).status).toBe(200)
    const cookie = await fetch(`${server.url}/admin/stats`, { headers: { cookie: `berth_token=${TOKEN}` } })
    expect(cookie.status).toBe(200)
  })
})

describe('GET /admin/stats', () => {
  it('reports what was created: sessions, events, workspace folders and bytes, database and log sizes', async () => {
    const server = await startFileServer({ BERTH_AUTH_TOKEN: TOKEN })
    await seed(server, 'st-1', { bytes: 1 * KB, events: 3 })
    await seed(server, 'st-2', { bytes: 2 * KB, events: 4 })
    await seed(server, 'st-3', { events: 5 })
    const { paths } = server.context.storage
    await writeFile(paths.logs, 'x'.repeat(1536))
    const before = Date.now()
    const sizeBefore = statSync(paths.database).size
    const stats = await json(await admin(server, '/admin/stats'))
    // A background checkpoint may grow events.db meanwhile: the answer lies between the two sizes.
    const sizeAfter = statSync(paths.database).size
    expect(Date.parse(stats.server_time)).toBeGreaterThanOrEqual(before - 1000)
    expect(stats.server_time).toMatch(/Z$/)

    expect(stats.database).toMatchObject({
      db_path: paths.database,
      event_count: 12,
      unique_sessions_in_db: 3,
    })
    expect(stats.database.db_size_bytes).toBeGreaterThanOrEqual(sizeBefore)
    expect(stats.database.db_size_bytes).toBeLessThanOrEqual(sizeAfter)
    expect(stats.database.db_size).toBe(humanSize(stats.database.db_size_bytes))

    expect(stats.workspace).toEqual({
      path: paths.workspaces,
      num_workspaces: 3,
      total_size: '3.00 KB',
      total_size_bytes: 3 * KB,
    })
    expect(stats.logs).toEqual({ path: paths.logs, size: '1.50 KB', size_bytes: 1536 })

    const system = stats.system
    expect(system.disk_path_checked).toBe(paths.root)
    expect(system.memory_total_bytes).toBe(os.totalmem())
    expect(system.memory_total).toBe(humanSize(os.totalmem()))
    expect(system.memory_used_bytes).toBeGreaterThan(0)
    expect(system.memory_percent).toBeGreaterThan(0)
    expect(system.memory_percent).toBeLessThanOrEqual(100)
    expect(system.disk_total_bytes).toBeGreaterThan(system.disk_used_bytes)
    expect(system.disk_percent).toBeCloseTo((system.disk_used_bytes / system.disk_total_bytes) * 100, 0)
    expect(system.cpu_usage_percent).toBeGreaterThanOrEqual(0)
    expect(system.cpu_usage_percent).toBeLessThanOrEqual(100)

    // Deleting a session shows up in the next answer (nothing is cached).
    await server.context.workspaces.remove('st-2')
    await server.context.store.deleteSession('st-2')
    const after = await json(await admin(server, '/admin/stats'))
    expect(after.database).toMatchObject({ event_count: 8, unique_sessions_in_db: 2 })
    expect(after.workspace).toMatchObject({ num_workspaces: 2, total_size_bytes: 1 * KB })
  })

  it('formats sizes as the reference did', () => {
    expect(humanSize(0)).toBe('0 B')
    expect(humanSize(1023)).toBe('1023 B')
    expect(humanSize(1536)).toBe('1.50 KB')
    expect(humanSize(5 * 1024 ** 2)).toBe('5.00 MB')
    expect(humanSize(3 * 1024 ** 4)).toBe('3072.00 GB')
  })
})

describe('POST /admin/cleanup', () => {
  it('dry run lists the least recently active idle sessions up to the target and deletes nothing', async () => {
    const server = await startFileServer({ BERTH_AUTH_TOKEN: TOKEN })
    for (const id of ['dr-1', 'dr-2', 'dr-3']) await seed(server, id, { bytes: 100 * KB, events: 3 })
    const root = server.context.storage.paths.workspaces
    const before = await snapshotTree(root)

    const report = await cleanup(server, { dry_run: true, target_bytes: 150 * KB })
    expect(report.dry_run).toBe(true)
    expect(report.sessions.map((s: { id: string }) => s.id)).toEqual(['dr-1', 'dr-2'])
    expect(report.sessions[0]).toMatchObject({ id: 'dr-1', events: 3, bytes: 100 * KB })
    expect(report).toMatchObject({
      sessions_deleted: [],
      workspaces_deleted_count: 0,
      bytes_freed_from_workspaces: 0,
      db_event_rows_deleted: 0,
      errors: [],
    })
    expect(await server.context.store.counts()).toEqual({ sessions: 3, events: 9 })
    expect(await snapshotTree(root)).toEqual(before)
  })

  it('deletes whole idle sessions oldest first up to the target, keeps a running one, leaves the rest intact', async () => {
    const server = await startFileServer({ BERTH_AUTH_TOKEN: TOKEN })
    const { store } = server.context
    // Created first but active last: activity, not creation, decides.
    await seed(server, 'cl-late', { bytes: 100 * KB, events: 0 })
    await seed(server, 'cl-1', { bytes: 100 * KB, events: 3 })
    await seed(server, 'cl-run', { bytes: 100 * KB, events: 4 })
    await store.setStatus('cl-run', 'running', 'other-host/1')
    await sleep(3)
    // Idle in the database but running in this process (a run that started after the plan looks like this).
    await seed(server, 'cl-live', { bytes: 100 * KB, events: 2 })
    server.context.runs = { isRunning: (id: string) => id === 'cl-live' } as unknown as RunManager
    await seed(server, 'cl-2', { bytes: 100 * KB, events: 5 })
    await seed(server, 'cl-3', { bytes: 100 * KB, events: 6 })
    await seed(server, 'cl-4', { bytes: 100 * KB, events: 7 })
    await store.appendMany('cl-late', [{ type: 'user_message', content: { text: 'back again' } }])

    const keep = ['cl-run', 'cl-live', 'cl-3', 'cl-4', 'cl-late']
    const ws = server.context.workspaces
    const kept = new Map<string, [Record<string, string>, string[]]>()
    for (const id of keep) kept.set(id, [await snapshotTree(ws.dirFor(id)), await eventsOf(server, id)])

    const report = await cleanup(server, { target_bytes: 150 * KB })
    expect(report).toMatchObject({
      dry_run: false,
      sessions_deleted: ['cl-1', 'cl-2'],
      workspaces_deleted_count: 2,
      bytes_freed_from_workspaces: 200 * KB,
      db_event_rows_deleted: 8,
      errors: [],
      kept_running: ['cl-run', 'cl-live'],
    })
    for (const id of ['cl-1', 'cl-2']) {
      expect(await store.getSession(id)).toBeNull()
      expect(await store.countEvents(id)).toBe(0)
      expect(await ws.exists(id)).toBe(false)
    }
    for (const id of keep) {
      expect(await store.getSession(id)).not.toBeNull()
      expect([await snapshotTree(ws.dirFor(id)), await eventsOf(server, id)]).toEqual(kept.get(id))
    }
    expect(await store.counts()).toEqual({ sessions: 5, events: 4 + 2 + 6 + 7 + 1 })
  })

  it('keeps a session whose run starts after the cleanup planned to delete it', async () => {
    const server = await startFileServer({ BERTH_AUTH_TOKEN: TOKEN })
    await seed(server, 'late-a', { bytes: 1 * KB })
    const dir = await seed(server, 'late-b', { bytes: 1 * KB })
    await seed(server, 'late-c', { bytes: 1 * KB })
    // The plan asks first and hears "idle"; the run has started by the time the deletion reaches it.
    let asked = 0
    server.context.runs = {
      isRunning: (id: string) => id === 'late-b' && asked++ > 0,
    } as unknown as RunManager
    const report = await cleanup(server, { target_bytes: 0 })
    expect(asked).toBeGreaterThan(1)
    expect(report.sessions.map((s: { id: string }) => s.id)).toEqual(['late-a', 'late-b', 'late-c'])
    expect(report.sessions_deleted).toEqual(['late-a', 'late-c'])
    expect(report.kept_running).toEqual(['late-b'])
    expect(await server.context.store.countEvents('late-b')).toBe(2)
    expect((await readFile(join(dir, 'data.bin'))).length).toBe(1 * KB)
  })

  it('stops at max_sessions, only takes sessions idle longer than older_than, and refuses bad input', async () => {
    const server = await startFileServer({ BERTH_AUTH_TOKEN: TOKEN })
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000)
    await seed(server, 'old-1', { bytes: 1 * KB, events: 0, createdAt: hoursAgo(5) })
    await seed(server, 'old-2', { bytes: 1 * KB, events: 0, createdAt: hoursAgo(4) })
    await seed(server, 'old-3', { bytes: 1 * KB, events: 0, createdAt: hoursAgo(3) })
    await seed(server, 'fresh', { bytes: 1 * KB, events: 2 })

    const limited = await cleanup(server, { target_bytes: 0, max_sessions: 2 })
    expect(limited.sessions_deleted).toEqual(['old-1', 'old-2'])

    const aged = await cleanup(server, { target_bytes: 0, older_than: '1h' })
    expect(aged.sessions_deleted).toEqual(['old-3'])
    expect(await server.context.store.getSession('fresh')).not.toBeNull()

    const post = (body: unknown) =>
      admin(server, '/admin/cleanup', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const badAge = await post({ older_than: '30' })
    expect(badAge.status).toBe(400)
    expect((await json(badAge)).code).toBe('DURATION_INVALID')
    // A misspelt dry-run flag must not run a real cleanup.
    const typo = await post({ dryrun: true })
    expect(typo.status).toBe(400)
    expect((await json(typo)).code).toBe('INVALID_REQUEST')
    expect(await server.context.store.getSession('fresh')).not.toBeNull()

    // A bare POST (as the reference's clients send) uses the defaults: 200 MiB, so everything idle goes.
    const bare = await admin(server, '/admin/cleanup', { method: 'POST' })
    expect(bare.status).toBe(200)
    expect((await json(bare)).sessions_deleted).toEqual(['fresh'])
  })
})

describe('GET /admin/download_data', () => {
  it('streams a zip of a consistent events.db snapshot and agent_logs.txt, and leaves no file behind', async () => {
    const server = await startFileServer({ BERTH_AUTH_TOKEN: TOKEN })
    await seed(server, 'dl-1', { events: 30 })
    await seed(server, 'dl-2', { events: 12 })
    const { paths } = server.context.storage
    const log = '{"level":30,"msg":"hello"}\n'.repeat(100)
    await writeFile(paths.logs, log)

    const response = await admin(server, '/admin/download_data')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/zip')
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="berth-data-\d{8}-\d{6}\.zip"/)
    const out = await tempDir('berth-admin-zip-')
    const zipFile = join(out, 'data.zip')
    await writeFile(zipFile, Buffer.from(await response.arrayBuffer()))

    // Python's zipfile, an independent reader: names, then extract.
    const names = execFileSync('python3', [
      '-c',
      'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))',
      zipFile,
    ])
      .toString()
      .trim()
      .split('\n')
    expect(names).toEqual(['events.db', 'agent_logs.txt'])
    execFileSync('python3', ['-m', 'zipfile', '-e', zipFile, join(out, 'x')])
    expect(await readFile(join(out, 'x', 'agent_logs.txt'), 'utf8')).toBe(log)
    const copy = await SqliteStore.open({ file: join(out, 'x', 'events.db'), readonly: true })
    try {
      expect(await copy.checkIntegrity()).toEqual(['ok'])
      expect(await copy.counts()).toEqual({ sessions: 2, events: 42 })
    } finally {
      await copy.close()
    }
    expect(await readdir(join(paths.root, 'backups'))).toEqual([])
  })

  it('closes the snapshot when the client goes away mid-download', async () => {
    const server = await startFileServer({ BERTH_AUTH_TOKEN: TOKEN })
    await server.context.store.createSession({
      id: 'dl-big',
      workspaceDir: server.context.workspaces.dirFor('dl-big'),
      deviceId: 'dev-admin',
    })
    // Incompressible and larger than the socket buffers, so the download cannot finish by itself.
    for (let batch = 0; batch < 12; batch++) {
      const events = Array.from({ length: 250 }, () => ({
        type: 'tool_result',
        content: { output: randomBytes(8 * KB).toString('base64') },
      }))
      await server.context.store.appendMany('dl-big', events)
    }
    const openSnapshots = async () => {
      const found: string[] = []
      for (const fd of await readdir('/proc/self/fd')) {
        const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '')
        if (target.includes('/backups/.download-')) found.push(target)
      }
      return found
    }
    // node:http rather than fetch: destroying the request closes exactly its one socket.
    const request = http.get({ host: '127.0.0.1', port: server.port, path: '/admin/download_data', headers: AUTH })
    const response = await new Promise<http.IncomingMessage>((resolve, reject) =>
      request.once('response', resolve).once('error', reject),
    )
    expect(response.statusCode).toBe(200)
    await new Promise((resolve) => response.once('data', resolve))
    response.pause()
    // Still streaming: the snapshot is open (already unlinked, so nothing shows in the folder).
    const during = await openSnapshots()
    expect(during).toHaveLength(1)
    expect(during[0]).toMatch(/\(deleted\)$/)
    expect(await readdir(join(server.context.storage.paths.root, 'backups'))).toEqual([])
    request.destroy()
    const deadline = Date.now() + 5000
    while ((await openSnapshots()).length > 0 && Date.now() < deadline) await sleep(20)
    expect(await openSnapshots()).toEqual([])
  })
})

describe('GET /api/maintenance_message', () => {
  it('answers the setting, else the trimmed maintenance.txt read per request, else null', async () => {
    const plain = await startFileServer()
    const file = join(plain.context.storage.paths.root, 'maintenance.txt')
    const message = async (server: FileServer) => {
      const response = await fetch(`${server.url}/api/maintenance_message`)
      expect(response.status).toBe(200)
      return json(response)
    }
    expect(await message(plain)).toEqual({ message: null })
    await writeFile(file, '  Down for upgrades at 22:00 UTC.\n\n')
    expect(await message(plain)).toEqual({ message: 'Down for upgrades at 22:00 UTC.' })
    await writeFile(file, 'Back soon')
    expect(await message(plain)).toEqual({ message: 'Back soon' })
    await writeFile(file, ' \n ')
    expect(await message(plain)).toEqual({ message: null })
    await rm(file)
    expect(await message(plain)).toEqual({ message: null })
    // A folder in its place is no message (and no failure).
    await mkdir(file)
    expect(await message(plain)).toEqual({ message: null })

    const configured = await startFileServer({ BERTH_MAINTENANCE_MESSAGE: '  Read-only until noon  ' })
    await writeFile(join(configured.context.storage.paths.root, 'maintenance.txt'), 'from the file')
    expect(await message(configured)).toEqual({ message: 'Read-only until noon' })
  })
})

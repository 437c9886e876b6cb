import { spawn } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { appendFile, lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { runMigration } from '../../src/migrate/migrate.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { Workspaces } from '../../src/workspace/workspaces.js'
import { startBerth, startProcess } from '../helpers/berth-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { TSX_IMPORT } from '../helpers/tsx.js'
import {
  binaryBytes,
  buildBerthRoot,
  buildIiAgentRoot,
  dumpDatabase,
  II_GAIA,
  II_S1,
  II_S2,
  LONG_EVENTS,
  S_EMPTY,
  S_FILES,
  S_LONG,
  skipDatabase,
  snapshotTree,
  UNICODE_NAME,
} from './fixtures/data-trees.js'

describe('berth migrate from a berth root', () => {
  it('copies everything verified, rewrites folders, leaves the source untouched, and a rerun changes nothing', async () => {
    const source = await tempDir()
    const target = join(await tempDir(), 'data')
    await buildBerthRoot(source)
    const sourceBefore = await snapshotTree(source, { times: true })
    const sourceDb = await readFile(join(source, 'events.db'))

    const report = await runMigration({ from: source, to: target })
    expect(report.status).toBe('done')
    expect(report.sessions).toMatchObject({ inserted: 3, extended: 0, identical: 0, conflicts: [] })
    expect(report.events.inserted).toBe(LONG_EVENTS + 2)
    expect(report.folders.copied).toBe(4) // three sessions and shares/

    // Files: byte-identical, unicode names, binary content, symlinks as links (never followed), empty folder.
    const files = join(target, 'workspace', S_FILES)
    expect(await readFile(join(files, 'uploaded_files', UNICODE_NAME), 'utf8')).toBe('unicode ✓\n')
    expect((await readFile(join(files, 'uploaded_files', 'photo.bin'))).equals(binaryBytes())).toBe(true)
    expect((await lstat(join(files, 'escape-link'))).isSymbolicLink()).toBe(true)
    expect(await readlink(join(files, 'escape-link'))).toBe('../../../../../../../etc/passwd')
    expect(await readlink(join(files, 'index-link'))).toBe('site/index.html')
    expect(await readdir(join(target, 'workspace', S_EMPTY))).toEqual([])
    expect(await readFile(join(target, 'shares', 'snapshot.json'), 'utf8')).toBe('{"frozen":true}\n')
    // Times and modes are kept, like cp -a.
    const times = await snapshotTree(join(target, 'workspace'), { times: true })
    const sourceTimes = await snapshotTree(join(source, 'workspace'), { times: true })
    expect(times).toEqual(sourceTimes)

    // Database: rows byte for byte, workspace_dir rewritten to the target.
    const migrated = (await dumpDatabase(join(target, 'events.db'))) as {
      session: { id: string; workspaceDir: string }
    }[]
    const original = (await dumpDatabase(join(source, 'events.db'))) as typeof migrated
    expect(migrated.map((m) => m.session.workspaceDir)).toEqual(
      original.map((o) => join(target, 'workspace', o.session.id)),
    )
    const strip = (rows: typeof migrated) =>
      rows.map((row) => ({ ...row, session: { ...row.session, workspaceDir: '' } }))
    expect(strip(migrated)).toEqual(strip(original))

    // Logs: appended once, followed by a JSON marker line.
    const logs = (await readFile(join(target, 'agent_logs.txt'), 'utf8')).trimEnd().split('\n')
    expect(logs.slice(0, 2)).toEqual((await readFile(join(source, 'agent_logs.txt'), 'utf8')).trimEnd().split('\n'))
    expect(JSON.parse(logs[2] as string).berthMigratedLogs.end).toBeGreaterThan(0)

    // The source is untouched: same files, same times, no sidecar files; the work folder is gone.
    await expectSourceUntouched(source, sourceBefore, sourceDb)
    expect(await readdir(target)).not.toContain('.berth-migrate')

    // A second run is a no-op.
    const targetBefore = await snapshotTree(target, { times: true, skip: skipDatabase })
    const again = await runMigration({ from: source, to: target })
    expect(again.status).toBe('done')
    expect(again.sessions).toMatchObject({ inserted: 0, extended: 0, identical: 3 })
    expect(again.folders).toMatchObject({ copied: 0, identical: 4 })
    expect(again.logs.map((l) => l.outcome)).toEqual(['already-present'])
    expect(await snapshotTree(target, { times: true, skip: skipDatabase })).toEqual(targetBefore)
    expect(await dumpDatabase(join(target, 'events.db'))).toEqual(migrated)
  })

  it('brings over only what is new when the source went on after a first migration', async () => {
    const source = await tempDir()
    const target = await tempDir()
    await buildBerthRoot(source)
    await runMigration({ from: source, to: target })
    const store = await SqliteStore.open({ file: join(source, 'events.db') })
    await store.append(S_FILES, { type: 'user_message', content: { text: 'one more' } })
    await store.close()
    const later = `${JSON.stringify({ level: 30, time: 3, msg: 'later' })}\n`
    await appendFile(join(source, 'agent_logs.txt'), later)

    const report = await runMigration({ from: source, to: target })
    expect(report.status).toBe('done')
    expect(report.sessions).toMatchObject({ extended: 1, identical: 2 })
    expect(report.events.inserted).toBe(1)
    expect(report.logs.map((l) => [l.outcome, l.bytes])).toEqual([['appended-new-part', later.length]])
    const lines = (await readFile(join(target, 'agent_logs.txt'), 'utf8')).trimEnd().split('\n')
    expect(lines.filter((line) => line.includes('"msg":"boot"'))).toHaveLength(1)
    expect(lines.filter((line) => line.includes('"msg":"later"'))).toHaveLength(1)
  })

  it('reports conflicts and never overwrites: a different session under the same id, a folder that differs', async () => {
    const source = await tempDir()
    const target = await tempDir()
    await buildBerthRoot(source)
    const store = await SqliteStore.open({ file: join(target, 'events.db') })
    await store.createSession({
      id: S_FILES,
      workspaceDir: join(target, 'workspace', S_FILES),
      deviceId: 'someone-else',
      createdAt: '2026-01-01 00:00:00.000000',
    })
    await store.close()
    const theirs = join(target, 'workspace', S_LONG)
    await buildFolder(theirs, { 'uploaded_files/data.csv': 'their own data\n' })

    const report = await runMigration({ from: source, to: target })
    expect(report.status).toBe('incomplete')
    expect(report.sessions.conflicts.map((c) => c.id).sort()).toEqual([S_FILES, S_LONG].sort())
    expect(report.sessions.conflicts.find((c) => c.id === S_FILES)?.reasons[0]).toMatch(/different session/)
    expect(report.folders.different.map((f) => f.name).sort()).toEqual(
      [`workspace/${S_FILES}`, `workspace/${S_LONG}`].sort(),
    )
    expect(report.sessions.inserted).toBe(1) // S_EMPTY
    // Nothing of theirs changed; the conflicting folder of ours was not copied.
    expect(await readFile(join(theirs, 'uploaded_files', 'data.csv'), 'utf8')).toBe('their own data\n')
    expect(await readdir(join(target, 'workspace'))).not.toContain(S_FILES)
    const rows = (await dumpDatabase(join(target, 'events.db'))) as { session: { id: string; deviceId: string } }[]
    expect(rows.find((r) => r.session.id === S_FILES)?.session.deviceId).toBe('someone-else')
    expect(rows.find((r) => r.session.id === S_LONG)).toBeUndefined()
  })

  it('--dry-run prints the plan and writes nothing at all', async () => {
    const source = await tempDir()
    const parent = await tempDir()
    await buildBerthRoot(source)
    let planned: unknown
    const report = await runMigration({
      from: source,
      to: join(parent, 'data'),
      dryRun: true,
      onPlan: (summary) => {
        planned = summary
      },
    })
    expect(report.status).toBe('dry-run')
    expect(planned).toMatchObject({
      sessions: { total: 3, new: 3 },
      events: { total: LONG_EVENTS + 2, toCopy: LONG_EVENTS + 2 },
      folders: { total: 4, toCopy: 4 },
      files: { toCopy: 7 },
    })
    expect(await readdir(parent)).toEqual([])
  })

  it('--move deletes only what was verified at the target', async () => {
    const source = await tempDir()
    const target = await tempDir()
    await buildBerthRoot(source)
    await buildFolder(join(target, 'workspace', S_LONG), { 'other.txt': 'different\n' })

    const report = await runMigration({ from: source, to: target, move: true })
    expect(report.status).toBe('incomplete')
    expect(report.moved).toMatchObject({ folders: 3, logs: 1, database: false })
    // The conflicting folder and the database (whose session could not move) stay.
    expect(await readdir(join(source, 'workspace'))).toEqual([S_LONG])
    expect(await readdir(source)).toContain('events.db')
    expect(await readdir(source)).not.toContain('agent_logs.txt')
    expect(await readFile(join(target, 'workspace', S_FILES, 'uploaded_files', 'photo.bin'))).toEqual(binaryBytes())
  })

  it('berth migrate --move: a target file of the same size but other bytes is a conflict, and the source is kept', async () => {
    const source = await tempDir()
    const target = await tempDir()
    await buildBerthRoot(source)
    const ours = join(source, 'workspace', S_LONG, 'uploaded_files', 'data.csv')
    const theirs = join(target, 'workspace', S_LONG, 'uploaded_files', 'data.csv')
    // Same paths, same size (8 bytes), different bytes: only reading the content tells them apart.
    await buildFolder(join(target, 'workspace', S_LONG), { 'uploaded_files/data.csv': 'x,y\n3,4\n' })
    expect((await lstat(theirs)).size).toBe((await lstat(ours)).size)

    const child = startBerth(['migrate', '--from', source, '--to', target, '--move', '--json'], { cwd: target })
    expect(await child.exited).toBe(1)
    const report = JSON.parse(child.output().stdout)
    expect(report.status).toBe('incomplete')
    expect(report.folders.different).toEqual([
      expect.objectContaining({ name: `workspace/${S_LONG}`, reasons: ['uploaded_files/data.csv differs in content'] }),
    ])
    expect(report.sessions.conflicts.map((c: { id: string }) => c.id)).toEqual([S_LONG])
    // Ours is kept (and with it the database, whose session could not move); theirs is untouched.
    expect(await readFile(ours, 'utf8')).toBe('a,b\n1,2\n')
    expect(await readdir(join(source, 'workspace'))).toEqual([S_LONG])
    expect(await readdir(source)).toContain('events.db')
    expect(await readFile(theirs, 'utf8')).toBe('x,y\n3,4\n')
  })

  it('is wired into the berth command line, with a JSON plan and exit code 0 for a clean dry run', async () => {
    const source = await tempDir()
    const parent = await tempDir()
    await buildBerthRoot(source)
    const child = startBerth(['migrate', '--from', source, '--to', join(parent, 'data'), '--dry-run', '--json'], {
      cwd: parent,
    })
    expect(await child.exited).toBe(0)
    expect(JSON.parse(child.output().stdout)).toMatchObject({ status: 'dry-run', summary: { sessions: { new: 3 } } })
    expect(await readdir(parent)).toEqual([])
  })

  it('refuses to write into a root where a server is running', async () => {
    const source = await tempDir()
    const target = await tempDir()
    await buildBerthRoot(source)
    const holder = spawn(
      process.execPath,
      ['--import', TSX_IMPORT, fileURLToPath(new URL('../storage/fixtures/hold-lock.ts', import.meta.url)), target],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    try {
      for await (const line of createInterface({ input: holder.stdout })) if (line === 'locked') break
      const error = await runMigration({ from: source, to: target }).catch((e: unknown) => e)
      expect(isBerthError(error, 'MIGRATE_REFUSED')).toBe(true)
      expect((error as Error).message).toMatch(/server .*running on the target/)
      expect(await readdir(target)).not.toContain('events.db')
    } finally {
      holder.kill('SIGKILL')
    }
  })
})

describe('berth migrate where the file system cannot be flushed in one call', () => {
  it('makes every staged file durable one by one and ends with the same tree', async () => {
    const source = await tempDir()
    const target = join(await tempDir(), 'data')
    await buildBerthRoot(source)
    // Enough files for the folder to be flushed with one syncfs, were it available.
    const many = join(source, 'workspace', S_FILES, 'many')
    await mkdir(many)
    for (let i = 0; i < 80; i++) await writeFile(join(many, `${i}.txt`), `file ${i}\n`)
    const path = process.env.PATH
    process.env.PATH = await tempDir() // no `sync` to be found: syncfs is unavailable
    try {
      const report = await runMigration({ from: source, to: target })
      expect(report.status).toBe('done')
    } finally {
      process.env.PATH = path
    }
    expect(await snapshotTree(join(target, 'workspace'), { times: true })).toEqual(
      await snapshotTree(join(source, 'workspace'), { times: true }),
    )
  })
})

describe('berth migrate from a root whose server is running', () => {
  it('copies a consistent database through the backup API, warns, and refuses --move', async () => {
    const source = await tempDir()
    const target = await tempDir()
    await buildBerthRoot(source)
    const writer = startProcess(
      process.execPath,
      ['--import', TSX_IMPORT, fileURLToPath(new URL('../backup/fixtures/live-writer.ts', import.meta.url)), source],
      { cwd: source },
    )
    try {
      await writer.waitFor(/ack 200\n/)
      const refused = await runMigration({ from: source, to: target, move: true }).catch((e: unknown) => e)
      expect(isBerthError(refused, 'MIGRATE_REFUSED')).toBe(true)
      const acked = Number([...writer.output().stdout.matchAll(/ack (\d+)\n/g)].at(-1)?.[1])
      const report = await runMigration({ from: source, to: target })
      expect(report.summary.sourceServerRunning).toBe(true)
      expect(report.warnings.join('\n')).toMatch(/server is running on the source/)
      const store = await SqliteStore.open({ file: join(target, 'events.db') })
      const { events } = await store.readEvents('live', { limit: 10_000 })
      expect(events.length).toBeGreaterThanOrEqual(acked)
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
      await store.close()
      expect(await readdir(target)).not.toContain('.berth-server.lock')
    } finally {
      writer.child.kill('SIGKILL')
      await writer.exited
    }
  })
})

describe('berth migrate from an ii-agent data folder', () => {
  it('understands workspaces/, logs/agent_logs.txt and foreign absolute paths', async () => {
    const source = await tempDir()
    const target = await tempDir()
    await buildIiAgentRoot(source)
    const sourceBefore = await snapshotTree(source, { times: true })
    const sourceDb = await readFile(join(source, 'events.db'))

    const report = await runMigration({ from: source, to: target })
    expect(report.summary.source.kind).toBe('ii-agent')
    expect(report.status).toBe('done')
    expect(report.sessions.inserted).toBe(3)
    expect(report.warnings.join('\n')).toMatch(/1 events in the source database belong to no session/)

    // Folders land in berth's workspace/, the stray one included.
    expect((await readdir(join(target, 'workspace'))).sort()).toEqual([II_S1, II_S2, 'stray-folder', 'task-17'].sort())
    expect(await readFile(join(target, 'workspace', II_S1, 'uploaded_files', UNICODE_NAME))).toEqual(
      binaryBytes(50_000),
    )
    const store = await SqliteStore.open({ file: join(target, 'events.db') })
    const workspaces = new Workspaces({ root: join(target, 'workspace'), quotaBytes: null })
    for (const id of [II_S1, II_S2, II_GAIA]) {
      const session = await store.getSession(id)
      expect(session?.workspaceDir.startsWith(join(target, 'workspace'))).toBe(true)
      expect(await workspaces.exists(id, session?.workspaceDir)).toBe(true)
    }
    expect((await store.getSession(II_GAIA))?.workspaceDir).toBe(join(target, 'workspace', 'task-17'))
    const { events } = await store.readEvents(II_S1)
    expect(events.map((e) => e.seq)).toEqual([1, 2])
    expect(events[0]?.payload).toBe(
      '{"type": "user_message", "content": {"text": "Build a caf\\u00e9 site \\ud83d\\ude80", "files": []}}',
    )
    expect((await store.listSessions('dev-1')).items.map((s) => s.firstMessage)).toEqual([
      'second',
      'Build a café site 🚀',
    ])
    await store.close()
    expect(await readFile(join(target, 'agent_logs.txt'), 'utf8')).toMatch(
      /^INFO plain text log line\nWARNING another\n\{/,
    )

    // The ii-agent database was read, never written: same bytes, no journal or WAL files beside it.
    await expectSourceUntouched(source, sourceBefore, sourceDb)
  })
})

describe('a source that changes during the copy', () => {
  it('is detected: the folder is copied again and ends up with the new content', async () => {
    const source = await tempDir()
    const target = await tempDir()
    await buildBerthRoot(source)
    const file = join(source, 'workspace', S_FILES, 'agent_memory', 'notes.md')
    let changes = 0
    const report = await runMigration({
      from: source,
      to: target,
      onStep: async (step, detail) => {
        if (step === 'unit-staged' && detail === `workspace/${S_FILES}` && changes++ === 0) {
          await appendFile(file, 'written while the copy ran\n')
        }
      },
    })
    expect(changes).toBe(2)
    expect(report.status).toBe('done')
    expect(await readFile(join(target, 'workspace', S_FILES, 'agent_memory', 'notes.md'), 'utf8')).toBe(
      '# notes\nwritten while the copy ran\n',
    )
  })

  it('is caught file by file when it changed after the plan, and the folder is walked and copied again', async () => {
    const source = await tempDir()
    const target = await tempDir()
    await buildBerthRoot(source)
    const file = join(source, 'workspace', S_FILES, 'agent_memory', 'notes.md')
    const staged: string[] = []
    const report = await runMigration({
      from: source,
      to: target,
      // The plan has walked every folder by now; the copy must notice that notes.md is no longer what it saw.
      onPlan: () => appendFileSync(file, 'written after the plan\n'),
      onStep: (step, detail) => {
        if (step === 'unit-staged') staged.push(detail)
      },
    })
    expect(report.status).toBe('done')
    expect(report.folders.failed).toEqual([])
    expect(staged.filter((key) => key === `workspace/${S_FILES}`)).toHaveLength(1)
    expect(await readFile(join(target, 'workspace', S_FILES, 'agent_memory', 'notes.md'), 'utf8')).toBe(
      '# notes\nwritten after the plan\n',
    )
  })

  it('gives the folder up, and says so, when it never stops changing', async () => {
    const source = await tempDir()
    const target = await tempDir()
    await buildBerthRoot(source)
    const file = join(source, 'workspace', S_FILES, 'agent_memory', 'notes.md')
    const report = await runMigration({
      from: source,
      to: target,
      onStep: async (step, detail) => {
        if (step === 'file-copied' && detail === `workspace/${S_FILES}/agent_memory/notes.md`) {
          await appendFile(file, 'more\n')
        }
      },
    })
    expect(report.status).toBe('incomplete')
    expect(report.folders.failed).toEqual([
      { name: `workspace/${S_FILES}`, reason: expect.stringMatching(/kept changing while it was copied/) },
    ])
    expect(report.sessions.conflicts.map((c) => c.id)).toEqual([S_FILES])
    expect(await readdir(join(target, 'workspace'))).not.toContain(S_FILES)
    expect(report.sessions.inserted).toBe(2)
  })
})

async function buildFolder(dir: string, files: Record<string, string>): Promise<void> {
  const { mkdir } = await import('node:fs/promises')
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true })
    await writeFile(join(dir, name), content)
  }
}

async function expectSourceUntouched(source: string, before: Record<string, string>, db: Buffer): Promise<void> {
  expect(await snapshotTree(source, { times: true })).toEqual(before)
  expect((await readFile(join(source, 'events.db'))).equals(db)).toBe(true)
}

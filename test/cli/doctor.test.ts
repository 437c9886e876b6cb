import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { LATEST_SCHEMA, MIGRATION_NAMES } from '../../src/store/migrations.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { runBerth } from '../helpers/berth-process.js'
import { REFERENCE_DDL } from '../helpers/ii-agent-schema.js'
import { tryMount, unmount } from '../helpers/mount.js'
import { tempDir } from '../helpers/temp-dir.js'

async function doctorJson(root: string) {
  const result = await runBerth(['doctor', '--json', '--data-dir', root], { cwd: root })
  return { code: result.code, report: JSON.parse(result.stdout) as Record<string, any>, stderr: result.stderr }
}

describe('berth doctor', () => {
  it('reports paths, schema, integrity, counts and orphans both ways, in JSON', async () => {
    const root = await tempDir()
    const store = await SqliteStore.open({ file: join(root, 'events.db') })
    await store.createSession({
      id: 'with-folder',
      workspaceDir: join(root, 'workspace', 'with-folder'),
      deviceId: 'd',
    })
    await store.createSession({ id: 'no-folder', workspaceDir: '/elsewhere/no-folder', deviceId: 'd' })
    await store.append('with-folder', { type: 'user_message', content: { text: 'hi' } })
    await store.close()
    await mkdir(join(root, 'workspace', 'with-folder'), { recursive: true })
    await mkdir(join(root, 'workspace', 'stray-folder'), { recursive: true })

    const { code, report } = await doctorJson(root)
    expect(code).toBe(0)
    expect(report.ok).toBe(true)
    expect(report.storage).toMatchObject({
      mode: 'persistent',
      source: 'flag',
      root,
      database: join(root, 'events.db'),
      workspaces: join(root, 'workspace'),
      logs: join(root, 'agent_logs.txt'),
    })
    expect(report.storage.freeBytes).toBeGreaterThan(0)
    expect(typeof report.storage.fsType).toBe('string')
    expect(report.database).toMatchObject({
      exists: true,
      schema: LATEST_SCHEMA,
      integrity: ['ok'],
      sessions: 2,
      events: 1,
    })
    expect(report.workspaces).toEqual({
      count: 2,
      withoutSession: ['stray-folder'],
      sessionsWithoutWorkspace: ['no-folder'],
    })
    expect(report.checks.find((c: { name: string }) => c.name === 'workspaces').status).toBe('warn')
  })

  it('exits 1 and names the file when the database is not SQLite, without touching it', async () => {
    const root = await tempDir()
    await writeFile(join(root, 'events.db'), 'garbage '.repeat(1000))
    const result = await runBerth(['doctor', '--data-dir', root], { cwd: root })
    expect(result.code).toBe(1)
    expect(result.stdout).toContain('[FAIL] database')
    expect(result.stdout).toContain(join(root, 'events.db'))
  })

  it('lists the schema steps an ii-agent database lacks, in text and JSON, without running them', async () => {
    const root = await tempDir()
    const file = join(root, 'events.db')
    const db = new Database(file)
    db.exec(REFERENCE_DDL)
    db.prepare("INSERT INTO session (id, workspace_dir, created_at) VALUES ('s1', '/app/workspace/s1', NULL)").run()
    db.close()
    const bytes = await readFile(file)
    const { mtimeMs } = await stat(file)

    const { code, report } = await doctorJson(root)
    expect(code).toBe(0)
    expect(report.database.pendingMigrations).toEqual([...MIGRATION_NAMES])
    expect(report.checks.find((c: { name: string }) => c.name === 'schema')).toMatchObject({ status: 'warn' })
    const text = await runBerth(['doctor', '--data-dir', root], { cwd: root })
    expect(text.stdout).toContain('Pending schema steps (not run by doctor')
    for (const name of MIGRATION_NAMES) expect(text.stdout).toContain(`\n  ${name}`)

    // Nothing ran: same bytes, same mtime, no backup, no WAL.
    expect((await readFile(file)).equals(bytes)).toBe(true)
    expect((await stat(file)).mtimeMs).toBe(mtimeMs)
    expect(await readdir(root)).toEqual(['events.db'])
  })

  it('says EPHEMERAL and exits 1 when the root is on tmpfs', async (ctx) => {
    const root = join(await tempDir(), 'ram')
    if (!tryMount(root, 'size=4m')) ctx.skip('cannot mount a tmpfs here (needs root on Linux)')
    try {
      const { code, report } = await doctorJson(root)
      expect(code).toBe(1)
      expect(report.storage.mode).toBe('ephemeral')
      expect(report.storage.fsType).toBe('tmpfs')
      expect(report.storage.warnings.join(' ')).toMatch(/will be lost/)
      const text = await runBerth(['doctor', '--data-dir', root], { cwd: root })
      expect(text.stdout).toContain('EPHEMERAL')
    } finally {
      unmount(root)
    }
  })
})

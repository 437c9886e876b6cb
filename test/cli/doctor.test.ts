import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LATEST_SCHEMA } from '../../src/store/migrations.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { runBerth } from '../helpers/berth-process.js'
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

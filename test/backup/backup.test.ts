import { createWriteStream } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { BACKUP_FORMAT, BACKUP_VERSION, MANIFEST_NAME } from '../../src/backup/backup-manifest.js'
import { createBackup } from '../../src/backup/create-backup.js'
import { restoreBackup } from '../../src/backup/restore-backup.js'
import { verifyBackup } from '../../src/backup/verify-backup.js'
import { isBerthError } from '../../src/core/errors.js'
import { inspectRootLock } from '../../src/storage/root-lock.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { TarWriter } from '../../src/transfer/tar-writer.js'
import { startProcess } from '../helpers/berth-process.js'
import { tempDir } from '../helpers/temp-dir.js'
import { TSX_IMPORT } from '../helpers/tsx.js'
import { buildBerthRoot, dumpDatabase, S_FILES, snapshotTree, UNICODE_NAME } from '../migrate/fixtures/data-trees.js'
import { startTransferCli } from '../migrate/fixtures/transfer-cli-process.js'

const WRITER = fileURLToPath(new URL('./fixtures/live-writer.ts', import.meta.url))

describe('berth backup while a server appends', () => {
  it('restores to a consistent database with every event acknowledged before the backup began', async () => {
    const root = await tempDir()
    await buildBerthRoot(root)
    const target = join(await tempDir(), 'restored')
    const writer = startProcess(process.execPath, ['--import', TSX_IMPORT, WRITER, root], { cwd: root })
    let ackedBefore: number
    try {
      await writer.waitFor(/ack 300\n/)
      ackedBefore = lastAck(writer.output().stdout)
      const out = join(await tempDir(), 'snap.tar.gz')
      const backup = startTransferCli(['backup', '--out', out, '--json'], { cwd: root, env: { BERTH_DATA_DIR: root } })
      expect(await backup.exited).toBe(0)
      const written = JSON.parse(backup.output().stdout) as { manifest: { entries: { path: string }[] } }
      // The writer kept going during the backup, and still owns its lock.
      expect(lastAck(writer.output().stdout)).toBeGreaterThan(ackedBefore)
      expect(inspectRootLock(root).locked).toBe(true)
      const names = written.manifest.entries.map((e) => e.path)
      expect(names.filter((n) => n.startsWith('.berth-server') || n.startsWith('events.db'))).toEqual([])
      expect(names).toContain(`workspace/${S_FILES}/uploaded_files/${UNICODE_NAME}`)

      expect(await verifyBackup(out)).toMatchObject({ ok: true, problems: [] })
      const restored = await restoreBackup(out, target)
      expect(restored.sessions).toBe(4)
    } finally {
      writer.child.kill('SIGKILL')
      await writer.exited
    }

    const store = await SqliteStore.open({ file: join(target, 'events.db') })
    expect(await store.checkIntegrity()).toEqual(['ok'])
    const { events } = await store.readEvents('live', { limit: 10_000 })
    expect(events.length).toBeGreaterThanOrEqual(ackedBefore)
    // Gapless, and each event is the one written at its position: a consistent cut.
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
    expect(events.map((e) => (JSON.parse(e.payload) as { content: { n: number } }).content.n)).toEqual(
      events.map((e) => e.seq),
    )
    expect((await store.getSession(S_FILES))?.workspaceDir).toBe(join(target, 'workspace', S_FILES))
    await store.close()

    // The sessions the writer did not touch come back exactly: rows (folders aside) and files.
    const others = (db: unknown[]) =>
      db
        .filter((row) => (row as { session: { id: string } }).session.id !== 'live')
        .map((row) => JSON.stringify(row).replace(/"workspaceDir":"[^"]*"/, ''))
    expect(others(await dumpDatabase(join(target, 'events.db')))).toEqual(
      others(await dumpDatabase(join(root, 'events.db'))),
    )
    expect(await snapshotTree(join(target, 'workspace', S_FILES), { times: true })).toEqual(
      await snapshotTree(join(root, 'workspace', S_FILES), { times: true }),
    )
  })
})

describe('berth backup --verify and restore', () => {
  it('finds a flipped byte, and restore then refuses and changes nothing', async () => {
    const root = await tempDir()
    await buildBerthRoot(root)
    const { file } = await createBackup({ root, out: join(await tempDir(), 'plain.tar') })
    const bytes = await readFile(file)
    const at = bytes.indexOf('unicode ✓')
    expect(at).toBeGreaterThan(0)
    bytes[at] = 'U'.charCodeAt(0)
    await writeFile(file, bytes)

    const result = await verifyBackup(file)
    expect(result.ok).toBe(false)
    expect(result.problems).toEqual([
      `workspace/${S_FILES}/uploaded_files/${UNICODE_NAME} fails its checksum (12 bytes read, 12 listed)`,
    ])
    const target = join(await tempDir(), 'target')
    const error = await restoreBackup(file, target).catch((e: unknown) => e)
    expect(isBerthError(error, 'ARCHIVE_INVALID')).toBe(true)
    expect(await readdir(target)).toEqual([])
  })

  it('reports a truncated archive', async () => {
    const root = await tempDir()
    await buildBerthRoot(root)
    const { file } = await createBackup({ root, out: join(await tempDir(), 'b.tar.gz') })
    const bytes = await readFile(file)
    await writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2)))
    const result = await verifyBackup(file)
    expect(result.ok).toBe(false)
    expect(result.problems.join('\n')).toMatch(/damaged or truncated|no berth-backup.json/)
  })

  it('refuses a target that holds data, and restores next to what a fresh root holds', async () => {
    const root = await tempDir()
    await buildBerthRoot(root)
    const { file } = await createBackup({ root })
    expect(file.startsWith(join(root, 'backups'))).toBe(true)

    const busy = await tempDir()
    await writeFile(join(busy, 'notes.txt'), 'mine\n')
    const error = await restoreBackup(file, busy).catch((e: unknown) => e)
    expect(isBerthError(error, 'TARGET_NOT_EMPTY')).toBe(true)
    expect(await readdir(busy)).toEqual(['notes.txt'])

    // What `berth serve` leaves in a fresh root: an empty database, workspace/, its own log lines.
    const fresh = await tempDir()
    const store = await SqliteStore.open({ file: join(fresh, 'events.db') })
    await store.close()
    await mkdir(join(fresh, 'workspace'))
    await mkdir(join(fresh, 'lost+found'))
    await writeFile(join(fresh, 'agent_logs.txt'), '{"msg":"fresh boot"}\n')
    const restored = await restoreBackup(file, fresh)
    expect(restored.sessions).toBe(3)
    const log = await readFile(join(fresh, 'agent_logs.txt'), 'utf8')
    expect(log).toBe(`${await readFile(join(root, 'agent_logs.txt'), 'utf8')}{"msg":"fresh boot"}\n`)
    expect((await readdir(fresh)).sort()).toEqual(['agent_logs.txt', 'events.db', 'lost+found', 'shares', 'workspace'])
    // A second restore into the now-full root is refused.
    expect(isBerthError(await restoreBackup(file, fresh).catch((e: unknown) => e), 'TARGET_NOT_EMPTY')).toBe(true)
  })

  it('never writes outside the target, whatever paths and symlinks an archive holds', async () => {
    const parent = await tempDir()
    const archive = join(parent, 'evil.tar')
    const stream = createWriteStream(archive)
    const tar = new TarWriter(stream)
    await tar.addSymlink('workspace/evil', '../..')
    await tar.addBuffer('workspace/evil/pwned.txt', Buffer.from('gotcha'))
    const manifest = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      createdAt: new Date().toISOString(),
      root: '/x',
      database: null,
      entries: [],
      warnings: [],
    }
    await tar.addBuffer(MANIFEST_NAME, Buffer.from(JSON.stringify(manifest)))
    await tar.finish()
    await new Promise((resolve) => stream.end(resolve))
    const target = join(parent, 'target')
    const error = await restoreBackup(archive, target).catch((e: unknown) => e)
    expect(isBerthError(error, 'ARCHIVE_INVALID')).toBe(true)
    expect((error as Error).message).toMatch(/outside the target/)
    expect((await readdir(parent)).sort()).toEqual(['evil.tar', 'target'])
    expect(await readdir(target)).toEqual([])

    const dotdot = join(parent, 'dotdot.tar')
    const s2 = createWriteStream(dotdot)
    const t2 = new TarWriter(s2)
    await t2.addBuffer('../escaped.txt', Buffer.from('x'))
    await t2.addBuffer(MANIFEST_NAME, Buffer.from(JSON.stringify(manifest)))
    await t2.finish()
    await new Promise((resolve) => s2.end(resolve))
    const result = await verifyBackup(dotdot)
    expect(result.problems).toEqual(['unsafe path in the archive: "../escaped.txt"'])
  })
})

function lastAck(stdout: string): number {
  const matches = [...stdout.matchAll(/ack (\d+)\n/g)]
  return Number(matches.at(-1)?.[1] ?? 0)
}

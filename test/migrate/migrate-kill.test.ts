import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runMigration } from '../../src/migrate/migrate.js'
import { buildBerthRoot, dumpDatabase, skipDatabase, snapshotTree, type TreeSnapshot } from './fixtures/data-trees.js'
import { startTransferCli } from './fixtures/transfer-cli-process.js'

// Where the migration is stopped: mid-folder (some files staged), a staged
// folder before its rename, right after a rename (before the journal knows),
// mid-database, mid-log. The test below adds a kill at an arbitrary moment.
const KILL_POINTS = ['file-copied:4', 'unit-staged:2', 'unit-renamed:1', 'session-merged:1', 'logs-content-written']

let base: string
let source: string
let sourceBefore: TreeSnapshot
let sourceDb: Buffer
let reference: { tree: TreeSnapshot; db: unknown }

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'berth-migrate-kill-'))
  source = join(base, 'source')
  await buildBerthRoot(source)
  sourceBefore = await snapshotTree(source, { times: true })
  sourceDb = await readFile(join(source, 'events.db'))
  const target = join(base, 'reference')
  await runMigration({ from: source, to: target })
  reference = await describeTarget(target)
})

afterAll(async () => {
  await rm(base, { recursive: true, force: true })
})

describe('berth migrate killed with SIGKILL', () => {
  it('resumes from every point and ends byte for byte like an uninterrupted run, the source untouched', async () => {
    const runs = KILL_POINTS.map((point) => ({ point, target: join(base, `kill-${point.replace(':', '-')}`) }))
    await Promise.all(
      runs.map(async ({ point, target }) => {
        const child = migrateProcess(target, { BERTH_TEST_KILL_AT: point })
        expect({ point, exit: await child.exited }).toEqual({ point, exit: 'SIGKILL' })
      }),
    )
    for (const { point, target } of runs) {
      const report = await runMigration({ from: source, to: target })
      expect({ point, status: report.status }).toEqual({ point, status: 'done' })
      const result = await describeTarget(target)
      expect({ point, ...result }).toEqual({ point, ...reference })
    }
    expect(await snapshotTree(source, { times: true })).toEqual(sourceBefore)
    expect((await readFile(join(source, 'events.db'))).equals(sourceDb)).toBe(true)
  })

  it('resumes after a kill from outside at an arbitrary moment, and a third run changes nothing', async () => {
    const target = join(base, 'kill-outside')
    const child = migrateProcess(target, {})
    const journal = join(target, '.berth-migrate')
    // Kill as soon as the journal has grown past a few entries, wherever the run is then.
    for (;;) {
      const size = await journalSize(journal)
      if (size > 600 || typeof (await Promise.race([child.exited, sleep(5)])) !== 'undefined') break
    }
    child.child.kill('SIGKILL')
    await child.exited
    const resumed = await cliRun(target)
    expect(resumed.code).toBe(0)
    expect(resumed.stdout).toMatch(/Migration complete\./)
    expect(await describeTarget(target)).toEqual(reference)
    const third = await runMigration({ from: source, to: target })
    expect(third).toMatchObject({
      status: 'done',
      sessions: { inserted: 0, extended: 0, identical: 3 },
      folders: { copied: 0, identical: 4 },
    })
    expect(await describeTarget(target)).toEqual(reference)
  })
})

function migrateProcess(target: string, env: Record<string, string>) {
  return startTransferCli(['migrate', '--from', source, '--to', target], { cwd: base, env })
}

async function cliRun(target: string): Promise<{ code: number | string; stdout: string }> {
  const child = migrateProcess(target, {})
  const code = await child.exited
  return { code, stdout: child.output().stdout }
}

/** The target as a migration must leave it: files byte for byte, and database rows with the root made relative. */
async function describeTarget(target: string): Promise<{ tree: TreeSnapshot; db: unknown }> {
  const tree = await snapshotTree(target, { times: true, skip: skipDatabase })
  // The target's own folder and log are made by the run, so their times are the run's.
  delete tree['']
  for (const own of ['workspace', 'agent_logs.txt']) tree[own] = (tree[own] ?? '').replace(/ mtime=\d+$/, '')
  const db = JSON.parse(JSON.stringify(await dumpDatabase(join(target, 'events.db'))).replaceAll(target, '<target>'))
  return { tree, db }
}

async function journalSize(dir: string): Promise<number> {
  try {
    const { readdir } = await import('node:fs/promises')
    const [key] = await readdir(dir)
    return key === undefined ? 0 : (await stat(join(dir, key, 'journal.jsonl'))).size
  } catch {
    return 0
  }
}

function sleep(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms))
}

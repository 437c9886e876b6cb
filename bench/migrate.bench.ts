/**
 * bench:migrate — `berth migrate` (every file staged, each chunk read back
 * and compared with the source, the staged tree flushed to disk, renamed into
 * place, journaled) against `cp -a` of the same generated tree, in the same
 * run, taking turns at going first. `cp -a` neither verifies nor flushes, so
 * `cp -a` followed by `sync` is printed as well.
 *
 * On ext4 without a journal (this VM's root), creating files gets several
 * times slower for a minute or more after many were deleted: the inode
 * allocator skips recently freed inodes. That dominates both contenders, so
 * nothing is deleted until the end, and each round prints how long creating
 * one empty file took before it: compare ratios, not MB/s across runs.
 *
 *   npm run bench:migrate      (BENCH_MIGRATE_BYTES=200MB for a smaller tree, BENCH_ROUNDS=3 for fewer
 *                               rounds, TMPDIR=<folder> to run on another disk)
 */
import { execFileSync } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { closeSync, openSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { byteSize } from '../src/config/settings.js'
import { runMigration } from '../src/migrate/migrate.js'
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js'

const TOTAL = byteSize.parse(process.env.BENCH_MIGRATE_BYTES ?? '1GiB') ?? 1024 ** 3
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const SESSIONS = 20

/** Share of the bytes, smallest and largest file size: many small files, some medium, a few large. */
const MIX: [number, number, number][] = [
  [0.1, 1024, 64 * 1024],
  [0.3, 256 * 1024, 4 * 1024 ** 2],
  [0.6, 16 * 1024 ** 2, 128 * 1024 ** 2],
]

const dir = await mkdtemp(join(tmpdir(), 'berth-bench-migrate-'))
try {
  const source = join(dir, 'source')
  const { files, bytes } = await generateTree(source)
  console.log(`bench:migrate  ${files} files, ${mb(bytes).toFixed(0)} MB in ${SESSIONS} session folders (${dir})\n`)

  // Read everything once, so that both contenders find the source in the page cache. Nothing is
  // deleted until the end: ext4 creates files slowly for a while after many were deleted (it
  // skips recently freed inodes), which would slow whichever contender came next.
  await readTree(source)
  const results: { cp: number; cpSync: number; migrate: number }[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const creation = await fileCreationMicros(join(dir, `probe-${round}`))
    const timeCp = () => {
      sync()
      const start = performance.now()
      execFileSync('cp', ['-a', source, join(dir, `cp-${round}`)])
      const cp = (performance.now() - start) / 1000
      sync()
      return { cp, cpSync: (performance.now() - start) / 1000 }
    }
    const timeMigrate = async () => {
      sync()
      const start = performance.now()
      const report = await runMigration({ from: source, to: join(dir, `migrate-${round}`) })
      if (report.status !== 'done' || report.files.bytes !== bytes)
        throw new Error(`migration incomplete: ${report.status}`)
      return (performance.now() - start) / 1000
    }
    // Whoever goes second finds the page cache fuller: take turns.
    let cp: { cp: number; cpSync: number }
    let migrate: number
    if (round % 2 === 1) {
      cp = timeCp()
      migrate = await timeMigrate()
    } else {
      migrate = await timeMigrate()
      cp = timeCp()
    }
    results.push({ ...cp, migrate })
    console.log(
      `round ${round}: cp -a ${cp.cp.toFixed(2)} s, cp -a + sync ${cp.cpSync.toFixed(2)} s, berth migrate ${migrate.toFixed(2)} s` +
        `   (${round % 2 === 1 ? 'cp first' : 'berth first'}; creating a file took ${creation.toFixed(0)} µs)`,
    )
  }

  const cp = median(results.map((r) => r.cp))
  const cpSync = median(results.map((r) => r.cpSync))
  const migrate = median(results.map((r) => r.migrate))
  const rate = (seconds: number) => mb(bytes) / seconds
  console.log(`\n${ROUNDS > 1 ? `median of ${ROUNDS} rounds` : 'one round'}`)
  console.log(`  cp -a                         ${rate(cp).toFixed(0).padStart(6)} MB/s`)
  console.log(`  cp -a + sync                  ${rate(cpSync).toFixed(0).padStart(6)} MB/s`)
  console.log(`  berth migrate (verified)      ${rate(migrate).toFixed(0).padStart(6)} MB/s`)
  console.log(`  ratio to cp -a                ${(cp / migrate).toFixed(2)}   (target >= 0.80)`)
  console.log(`  ratio to cp -a + sync         ${(cpSync / migrate).toFixed(2)}`)
} finally {
  await rm(dir, { recursive: true, force: true })
}

/** A berth root: 20 session folders of mixed, incompressible files, a database and a log. */
async function generateTree(root: string): Promise<{ files: number; bytes: number }> {
  let seed = 42
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  const pool = randomFillSync(Buffer.alloc(16 * 1024 ** 2))
  const ids = Array.from({ length: SESSIONS }, (_, i) => `bench-session-${String(i).padStart(2, '0')}`)
  await mkdir(join(root, 'workspace'), { recursive: true })
  const store = await SqliteStore.open({ file: join(root, 'events.db') })
  for (const id of ids) {
    await store.createSession({ id, workspaceDir: join(root, 'workspace', id), deviceId: 'bench' })
    await store.appendMany(
      id,
      Array.from({ length: 50 }, (_, n) => ({ type: 'tool_result', content: { n, text: 'x'.repeat(200) } })),
    )
  }
  await store.close()
  await writeFile(join(root, 'agent_logs.txt'), `${JSON.stringify({ level: 30, msg: 'bench' })}\n`.repeat(1000))
  let files = 0
  let bytes = 0
  for (const [share, low, high] of MIX) {
    let made = 0
    while (made < share * TOTAL) {
      const size = Math.min(Math.floor(low + random() * (high - low)), Math.ceil(share * TOTAL - made) + low)
      const folder = join(root, 'workspace', ids[files % SESSIONS] as string, `part-${files % 7}`)
      await mkdir(folder, { recursive: true })
      const data = Buffer.allocUnsafe(size)
      for (let at = 0; at < size; at += pool.length) {
        const from = Math.floor(random() * 4096)
        pool.copy(data, at, from, from + Math.min(pool.length - from, size - at))
      }
      await writeFile(join(folder, `file-${files}.bin`), data)
      made += size
      bytes += size
      files++
    }
  }
  return { files, bytes }
}

/**
 * How long creating an empty file takes right now, in µs: about 25 on this
 * kind of VM normally, ten times more while ext4 skips recently freed inodes. Printed so that a slow round can be told from a slow contender.
 */
async function fileCreationMicros(folder: string): Promise<number> {
  await mkdir(folder)
  const start = performance.now()
  for (let i = 0; i < 500; i++) closeSync(openSync(join(folder, String(i)), 'wx'))
  return ((performance.now() - start) * 1000) / 500
}

async function readTree(root: string): Promise<void> {
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) await readFile(join(entry.parentPath, entry.name))
  }
}

function sync(): void {
  execFileSync('sync')
}

function mb(bytes: number): number {
  return bytes / 1024 ** 2
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

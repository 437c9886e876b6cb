/**
 * bench:migrate — `berth migrate` (every file staged, fsynced, read back and
 * verified by SHA-256, renamed into place, journaled) against `cp -a` of the
 * same generated tree in the same run. `cp -a` neither verifies nor fsyncs,
 * so `cp -a` followed by `sync` is printed as well.
 *
 *   npm run bench:migrate      (BENCH_MIGRATE_BYTES=200MB for a smaller tree, BENCH_ROUNDS=3 for medians)
 */
import { execFileSync } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { byteSize } from '../src/config/settings.js'
import { runMigration } from '../src/migrate/migrate.js'
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js'

const TOTAL = byteSize.parse(process.env.BENCH_MIGRATE_BYTES ?? '1GiB') ?? 1024 ** 3
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1)
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

  // One uncounted copy first, so that both contenders find the source in the page cache.
  execFileSync('cp', ['-a', source, join(dir, 'warm-up')])
  await rm(join(dir, 'warm-up'), { recursive: true, force: true })
  const results: { cp: number; cpSync: number; migrate: number }[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    sync()
    let start = performance.now()
    execFileSync('cp', ['-a', source, join(dir, `cp-${round}`)])
    const cp = (performance.now() - start) / 1000
    sync()
    const cpSync = (performance.now() - start) / 1000

    sync()
    start = performance.now()
    const report = await runMigration({ from: source, to: join(dir, `migrate-${round}`) })
    const migrate = (performance.now() - start) / 1000
    if (report.status !== 'done' || report.files.bytes !== bytes)
      throw new Error(`migration incomplete: ${report.status}`)
    results.push({ cp, cpSync, migrate })
    console.log(
      `round ${round}: cp -a ${cp.toFixed(2)} s, cp -a + sync ${cpSync.toFixed(2)} s, berth migrate ${migrate.toFixed(2)} s`,
    )
    await rm(join(dir, `cp-${round}`), { recursive: true, force: true })
    await rm(join(dir, `migrate-${round}`), { recursive: true, force: true })
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

import { randomBytes } from 'node:crypto'
import type { Dirent } from 'node:fs'
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { ZipFile } from 'yazl'
import { z } from 'zod'
import { BACKUPS_DIR } from '../../backup/create-backup.js'
import { BerthError } from '../../core/errors.js'
import { parseDuration } from '../../prune/parse-duration.js'
import { planPrune, pruneSessions } from '../../prune/prune-sessions.js'
import { diskSpace } from '../../storage/checks.js'
import { SqliteStore } from '../../store/sqlite/sqlite-store.js'
import { diskUsage } from '../../workspace/disk-usage.js'
import { isGone, lstatOrNull } from '../../workspace/fs-errors.js'
import { S3WorkspaceStorage } from '../../workspace/s3/s3-storage.js'
import type { ServerContext } from '../context.js'
import { contentDisposition } from '../files/content-disposition.js'

/** What `POST /admin/cleanup` frees when the request names no target: the reference's ADMIN_CLEANUP_TARGET_BYTES. */
export const DEFAULT_CLEANUP_TARGET_BYTES = 200 * 1024 * 1024
/** At most this many sessions per cleanup unless the request says otherwise (the reference's workspace cap). */
export const DEFAULT_CLEANUP_MAX_SESSIONS = 1000
/** The banner file an operator may write into the data root (read on every request). */
export const MAINTENANCE_FILE = 'maintenance.txt'
/** Snapshots for `GET /admin/download_data` are written under `<root>/backups/` with this prefix. */
const DOWNLOAD_PREFIX = '.download-'
/** A snapshot file this old was left by a process that died mid-download: swept by the next download. */
const STALE_DOWNLOAD_MS = 10 * 60 * 1000

const CleanupBody = z
  .object({
    target_bytes: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Stop once this many workspace bytes are freed (default 200 MiB); 0: no byte target.'),
    max_sessions: z.number().int().min(1).max(1_000_000).optional().describe('Delete at most this many sessions.'),
    older_than: z.string().max(32).optional().describe('Only sessions idle for longer than this, e.g. 30d, 12h.'),
    dry_run: z.boolean().optional().describe('List what would be deleted, delete nothing.'),
  })
  // A misspelt option (`dryrun`) must not turn a dry run into a real one.
  .strict()
  // The reference took no body at all: a bare POST (fastify hands it over as null) uses the defaults.
  .nullish()
const BinaryReply = z.unknown().describe('A zip with events.db and agent_logs.txt, streamed.')

/**
 * The reference's operator routes, behind the server token: `GET /admin/stats`,
 * `POST /admin/cleanup` (whole idle sessions, oldest first), `GET
 * /admin/download_data` (a consistent database snapshot and the log, zipped);
 * plus the public `GET /api/maintenance_message`.
 */
export const adminRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (plugin, { context }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>()
  const { config, logger } = context
  const paths = context.storage.paths

  // Meant to be public: the reference UI's Next server asks for the banner without any token, and it
  // reveals only the text the operator chose to show everyone. Whether a token is needed is the global
  // auth hook's decision (its public paths in auth-hook.ts), not this route's.
  app.get('/api/maintenance_message', { schema: { tags: ['admin'] } }, async () => ({
    message: config.maintenanceMessage ?? (await readMaintenanceFile(path.join(paths.root, MAINTENANCE_FILE), logger)),
  }))

  await plugin.register(async (scope) => {
    const admin = scope.withTypeProvider<ZodTypeProvider>()
    // The global auth hook (auth-hook.ts) already refuses /admin/* without the token when one is set; this
    // checks again here so the routes stay closed even if that hook's rules change, and refuses outright
    // when no token is configured (the reference's 503 without ADMIN_KEY).
    admin.addHook('onRequest', async (request) => assertAdmin(config.authToken, request))

    const workspaceWalk = coalesce(() => diskUsage(context.workspaces.root))
    admin.get('/admin/stats', { schema: { tags: ['admin'] } }, async () => collectStats(context, workspaceWalk))

    let cleanups: Promise<unknown> = Promise.resolve()
    admin.post('/admin/cleanup', { schema: { tags: ['admin'], body: CleanupBody } }, async (request) => {
      const body = request.body ?? {}
      const olderThanMs = body.older_than === undefined ? 0 : parseDuration(body.older_than)
      // One cleanup at a time: two overlapping ones would plan the same sessions and report them twice.
      const run = cleanups.then(() =>
        cleanup(context, {
          olderThanMs,
          targetBytes: body.target_bytes ?? DEFAULT_CLEANUP_TARGET_BYTES,
          maxSessions: body.max_sessions ?? DEFAULT_CLEANUP_MAX_SESSIONS,
          dryRun: body.dry_run ?? false,
        }),
      )
      cleanups = run.catch(() => undefined)
      return run
    })

    admin.get(
      '/admin/download_data',
      { schema: { tags: ['admin'], response: { 200: BinaryReply } } },
      async (_, reply) => {
        const now = new Date()
        const download = await dataZip(context, now)
        // A client that goes away mid-download must not keep the snapshot's file (and its disk space) open.
        reply.raw.once('close', download.release)
        return reply
          .header('content-type', 'application/zip')
          .header('content-disposition', contentDisposition(`berth-data-${stamp(now)}.zip`))
          .send(download.stream)
      },
    )
  })
}

function assertAdmin(authToken: string | undefined, request: FastifyRequest): void {
  if (authToken === undefined) {
    throw new BerthError(
      'ADMIN_NOT_CONFIGURED',
      'Admin routes are off on this server: set BERTH_AUTH_TOKEN and send it as "Authorization: Bearer <token>".',
    )
  }
  if (!request.requester.admin) {
    throw new BerthError('AUTH_REQUIRED', 'Admin routes need the server token: send "Authorization: Bearer <token>".')
  }
}

// --- stats -------------------------------------------------------------------

async function collectStats(context: ServerContext, workspaceWalk: () => Promise<number>) {
  const { paths } = context.storage
  const [system, database, workspace, logs] = await Promise.all([
    section(context, 'system', async () => {
      const [cpu, disk] = await Promise.all([cpuUsagePercent(), diskSpace(paths.root)])
      const memoryTotal = os.totalmem()
      const memoryUsed = memoryTotal - os.freemem()
      const diskUsed = disk.totalBytes - disk.freeBytes
      return {
        cpu_usage_percent: cpu,
        memory_total: humanSize(memoryTotal),
        memory_total_bytes: memoryTotal,
        memory_used: humanSize(memoryUsed),
        memory_used_bytes: memoryUsed,
        memory_percent: percent(memoryUsed, memoryTotal),
        disk_path_checked: paths.root,
        disk_total: humanSize(disk.totalBytes),
        disk_total_bytes: disk.totalBytes,
        disk_used: humanSize(diskUsed),
        disk_used_bytes: diskUsed,
        disk_free_bytes: disk.freeBytes,
        disk_percent: percent(diskUsed, disk.totalBytes),
      }
    }),
    section(context, 'database', async () => {
      const [counts, size, wal] = await Promise.all([
        context.store.counts(),
        fileSize(paths.database),
        fileSize(`${paths.database}-wal`),
      ])
      return {
        db_path: paths.database,
        db_size: humanSize(size),
        db_size_bytes: size,
        // Committed events not yet checkpointed into events.db live here.
        wal_size_bytes: wal,
        event_count: counts.events,
        unique_sessions_in_db: counts.sessions,
      }
    }),
    section(context, 'workspace', async () => {
      const storage = context.workspaceStorage
      if (storage instanceof S3WorkspaceStorage) {
        // The bucket, summed from the file index: the local folder holds no workspaces in this mode.
        const totals = await storage.totals()
        return {
          path: context.config.workspaceUrl,
          num_workspaces: totals.workspaces,
          total_size: humanSize(totals.bytes),
          total_size_bytes: totals.bytes,
        }
      }
      const root = context.workspaces.root
      const [folders, bytes] = await Promise.all([countFolders(root), workspaceWalk()])
      return {
        path: root,
        num_workspaces: folders,
        total_size: humanSize(bytes),
        total_size_bytes: bytes,
      }
    }),
    section(context, 'logs', async () => {
      const size = await fileSize(paths.logs)
      return { path: paths.logs, size: humanSize(size), size_bytes: size }
    }),
  ])
  return { server_time: new Date().toISOString(), system, database, workspace, logs }
}

/** Like the reference, one part that cannot be measured is reported as `{error}` and the others still are. */
async function section<T>(
  context: ServerContext,
  name: string,
  measure: () => Promise<T>,
): Promise<T | { error: string }> {
  try {
    return await measure()
  } catch (error) {
    context.logger.warn({ err: error, part: name }, 'admin stats could not measure a part')
    return { error: error instanceof Error ? error.message : String(error) }
  }
}

/** Share one running walk of the workspaces among concurrent stats requests instead of starting one each. */
function coalesce(work: () => Promise<number>): () => Promise<number> {
  let running: Promise<number> | null = null
  return () => {
    running ??= work().finally(() => {
      running = null
    })
    return running
  }
}

/** Busy share of all cores over 100 ms, in percent (psutil's cpu_percent(interval=0.1), which the reference used). */
async function cpuUsagePercent(): Promise<number> {
  const before = cpuTimes()
  await sleep(100)
  const after = cpuTimes()
  const total = after.total - before.total
  return total <= 0 ? 0 : percent(total - (after.idle - before.idle), total)
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0
  let total = 0
  for (const cpu of os.cpus()) {
    const t = cpu.times
    idle += t.idle
    total += t.user + t.nice + t.sys + t.idle + t.irq
  }
  return { idle, total }
}

function percent(part: number, whole: number): number {
  return whole <= 0 ? 0 : Math.round((part / whole) * 1000) / 10
}

/** The reference's size format: `512 B`, `1.50 KB`, `12.00 MB`, `3.10 GB` (powers of 1024, two decimals, GB at most). */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(2)} KB`
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(2)} MB`
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`
}

async function fileSize(file: string): Promise<number> {
  return (await lstatOrNull(file))?.size ?? 0
}

async function countFolders(dir: string): Promise<number> {
  let entries: Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (error) {
    if (isGone(error)) return 0
    throw error
  }
  return entries.filter((entry) => entry.isDirectory()).length
}

// --- cleanup -----------------------------------------------------------------

interface CleanupOptions {
  olderThanMs: number
  targetBytes: number
  maxSessions: number
  dryRun: boolean
}

/**
 * Delete whole idle sessions (workspace folder, then events and row, through
 * `pruneSessions`), least recently active first, until `targetBytes` of
 * workspace files are freed or `maxSessions` are gone. A session marked
 * running, or running in this process, is kept, also when it started after
 * the plan was made. One failing session is reported in `errors` and the
 * rest go on.
 */
async function cleanup(context: ServerContext, options: CleanupOptions) {
  const { store, workspaces, logger } = context
  const plan = await planPrune(store, workspaces, {
    olderThanMs: options.olderThanMs,
    targetBytes: options.targetBytes,
    maxSessions: options.maxSessions,
    isRunning: (id) => context.runs.isRunning(id),
    storage: context.workspaceStorage,
  })
  const report = {
    dry_run: options.dryRun,
    workspaces_deleted_count: 0,
    bytes_freed_from_workspaces: 0,
    db_event_rows_deleted: 0,
    errors: [] as string[],
    sessions_deleted: [] as string[],
    /** The plan: what this cleanup deletes (or, in a dry run, would delete). */
    sessions: plan.candidates.map((c) => ({ id: c.id, last_active: c.lastActive, events: c.events, bytes: c.bytes })),
    kept_running: [...plan.running],
    target_bytes: options.targetBytes,
    max_sessions: options.maxSessions,
  }
  if (options.dryRun) return report
  for (const candidate of plan.candidates) {
    const session = await store.getSession(candidate.id)
    if (session === null) continue
    if (session.status === 'running' || context.runs.isRunning(candidate.id)) {
      report.kept_running.push(candidate.id)
      continue
    }
    try {
      const freed = await pruneSessions(
        store,
        workspaces,
        [candidate],
        (c) => logger.info({ session: c.id, events: c.events, bytes: c.bytes }, 'admin cleanup deleted a session'),
        context.workspaceStorage,
      )
      if (freed.sessions === 0) continue
      report.sessions_deleted.push(candidate.id)
      report.db_event_rows_deleted += freed.events
      report.bytes_freed_from_workspaces += freed.bytes
      if (candidate.folder !== null) report.workspaces_deleted_count++
    } catch (error) {
      logger.error({ err: error, session: candidate.id }, 'admin cleanup could not delete a session')
      report.errors.push(`Session ${candidate.id}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  logger.info(
    {
      sessions: report.sessions_deleted.length,
      events: report.db_event_rows_deleted,
      bytes: report.bytes_freed_from_workspaces,
      errors: report.errors.length,
    },
    'admin cleanup finished',
  )
  return report
}

// --- download_data -----------------------------------------------------------

/**
 * A zip of a consistent snapshot of the database (`events.db`, through
 * SQLite's backup API, never the live file) and `agent_logs.txt` as long as
 * it was when the request came. The snapshot is written under
 * `<root>/backups/`, opened, and unlinked at once: the zip reads it through
 * the open descriptor, so nothing is left on disk however the download ends.
 */
async function dataZip(context: ServerContext, now: Date): Promise<{ stream: Readable; release: () => void }> {
  const { paths } = context.storage
  const dir = path.join(paths.root, BACKUPS_DIR)
  await mkdir(dir, { recursive: true })
  await sweepStaleDownloads(dir, now)
  const snapshot = path.join(dir, `${DOWNLOAD_PREFIX}${stamp(now)}-${randomBytes(4).toString('hex')}.db`)
  let database: Awaited<ReturnType<typeof open>>
  try {
    await SqliteStore.snapshotFile(paths.database, snapshot)
    database = await open(snapshot, 'r')
  } finally {
    await rm(snapshot, { force: true })
  }
  const inputs: Readable[] = []
  try {
    const zip = new ZipFile()
    const size = (await database.stat()).size
    const dbStream = database.createReadStream()
    inputs.push(dbStream)
    zip.addReadStream(dbStream, 'events.db', { size, mtime: now })
    const log = await open(paths.logs, 'r').catch((error: unknown) => {
      if (isGone(error)) return null
      throw error
    })
    if (log !== null) {
      // The log grows while it is zipped; take it up to its length now, so the entry's size holds.
      const logSize = (await log.stat()).size
      if (logSize === 0) {
        await log.close()
        zip.addBuffer(Buffer.alloc(0), 'agent_logs.txt', { mtime: now })
      } else {
        const logStream = log.createReadStream({ start: 0, end: logSize - 1 })
        inputs.push(logStream)
        zip.addReadStream(logStream, 'agent_logs.txt', { size: logSize, mtime: now })
      }
    }
    zip.end()
    const stream = zip.outputStream as Readable
    const release = () => {
      for (const input of inputs) input.destroy()
    }
    zip.on('error', (error: Error) => stream.destroy(error))
    stream.once('close', release)
    return { stream, release }
  } catch (error) {
    for (const input of inputs) input.destroy()
    await database.close().catch(() => undefined)
    throw error
  }
}

/** Snapshots a crashed process left behind (ours are unlinked as soon as they are open). */
async function sweepStaleDownloads(dir: string, now: Date): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith(DOWNLOAD_PREFIX)) continue
    const info = await lstatOrNull(path.join(dir, name))
    if (info !== null && now.getTime() - info.mtimeMs > STALE_DOWNLOAD_MS) {
      await rm(path.join(dir, name), { force: true })
    }
  }
}

/** `20250711-081112`: UTC, sortable, safe in file names. */
function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
}

// --- maintenance message -----------------------------------------------------

/** The trimmed text of the banner file; null when it is missing, empty or unreadable (logged). */
async function readMaintenanceFile(file: string, logger: ServerContext['logger']): Promise<string | null> {
  try {
    const text = (await readFile(file, 'utf8')).trim()
    return text === '' ? null : text
  } catch (error) {
    if (!isGone(error)) logger.warn({ err: error, file }, 'the maintenance message file cannot be read')
    return null
  }
}

import { constants } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import path from 'node:path'
import type { BerthConfig } from '../config/config.js'
import { isBerthError } from '../core/errors.js'
import { formatBytes } from '../core/format-bytes.js'
import { prepareDataRoot, type StorageReport } from '../runtime/storage-report.js'
import { diskSpace } from '../storage/checks.js'
import { inspectRootLock } from '../storage/root-lock.js'
import { MIGRATION_NAMES } from '../store/migrations.js'
import { openStore, type StoreLocation, storeLocation } from '../store/open-store.js'
import { redactDatabaseUrl } from '../store/postgres/connection-config.js'
import { chooseSandbox } from '../tools/bash/sandbox.js'
import { Workspaces } from '../workspace/workspaces.js'
import { type StoreHealth, storeHealth } from './store-health.js'
import { type BucketHealth, bucketHealth } from './workspace-storage-health.js'

export type CheckStatus = 'ok' | 'warn' | 'fail'

export interface DoctorCheck {
  name: string
  status: CheckStatus
  detail: string
}

export interface DoctorReport {
  ok: boolean
  storage: {
    mode: StorageReport['mode'] | 'unknown'
    source: string | null
    root: string | null
    database: string | null
    workspaces: string | null
    logs: string | null
    fsType: string | null
    mountPoint: string | null
    isMountPoint: boolean | null
    freeBytes: number | null
    totalBytes: number | null
    warnings: string[]
  }
  database: {
    backend: 'sqlite' | 'postgres'
    /** The SQLite file, or the PostgreSQL URL without its password. */
    location: string | null
    exists: boolean
    /** PostgreSQL: median ping (a write transaction) and this process's pool. */
    pingMs: number | null
    pool: StoreHealth['pool']
    schema: string | null
    pendingMigrations: string[]
    integrity: string[] | null
    sessions: number | null
    events: number | null
  }
  /** S3 workspaces (BERTH_WORKSPACE_URL): the bucket's check; null with local workspaces or when it failed. */
  bucket: BucketHealth | null
  workspaces: {
    count: number | null
    /** Folders under workspace/ with no session row. */
    withoutSession: string[]
    /** Session rows whose folder is missing. */
    sessionsWithoutWorkspace: string[]
  }
  server: { running: boolean; pid: number | null; since: string | null }
  checks: DoctorCheck[]
}

const LOW_DISK_BYTES = 1024 ** 3

/**
 * Inspect a data root without changing it: storage, database, workspaces and
 * the server lock. `ok` is false when something is wrong (a failed check).
 *
 * @example
 *   const report = await runDoctor(config)
 *   process.exitCode = report.ok ? 0 : 1
 */
export async function runDoctor(config: BerthConfig): Promise<DoctorReport> {
  const checks: DoctorCheck[] = []
  const add = (name: string, status: CheckStatus, detail: string) => checks.push({ name, status, detail })
  const report: DoctorReport = {
    ok: false,
    storage: {
      mode: 'unknown',
      source: null,
      root: null,
      database: null,
      workspaces: null,
      logs: null,
      fsType: null,
      mountPoint: null,
      isMountPoint: null,
      freeBytes: null,
      totalBytes: null,
      warnings: [],
    },
    database: {
      backend: config.databaseUrl ? 'postgres' : 'sqlite',
      location: null,
      exists: false,
      pingMs: null,
      pool: null,
      schema: null,
      pendingMigrations: [],
      integrity: null,
      sessions: null,
      events: null,
    },
    bucket: null,
    workspaces: { count: null, withoutSession: [], sessionsWithoutWorkspace: [] },
    server: { running: false, pid: null, since: null },
    checks,
  }

  let storage: StorageReport
  try {
    storage = await prepareDataRoot({ dataDir: config.dataDir, env: config.env, readOnly: true })
  } catch (error) {
    add('data root', 'fail', message(error))
    return finish(report)
  }
  const { paths, durability } = storage
  Object.assign(report.storage, {
    mode: storage.mode,
    source: storage.choice.source,
    root: paths.root,
    database: paths.database,
    workspaces: paths.workspaces,
    logs: paths.logs,
    fsType: durability.fsType,
    mountPoint: durability.mountPoint,
    isMountPoint: durability.isMountPoint,
    warnings: durability.warnings,
  })

  if (!(await exists(paths.root))) {
    add('data root', 'fail', `${paths.root} does not exist; berth creates it on first start.`)
    return finish(report)
  }
  // With sessions in PostgreSQL and workspaces in a bucket, the root holds only logs and scratch copies:
  // an instance without a disk (docs/deploy.md, several instances) is the intended setup, not a fault.
  const dataElsewhere = Boolean(config.databaseUrl && config.workspaceUrl)
  add(
    'storage mode',
    storage.mode === 'ephemeral' && !dataElsewhere ? 'fail' : 'ok',
    storage.mode === 'ephemeral'
      ? dataElsewhere
        ? `ephemeral (${paths.root}), as expected here: sessions are in PostgreSQL (DATABASE_URL) and workspaces ` +
          'in the bucket (BERTH_WORKSPACE_URL); the root holds only logs and scratch copies'
        : `EPHEMERAL: ${durability.warnings.join(' ')}`
      : `${storage.mode} (${paths.root}, ${storage.choice.source})`,
  )
  for (const warning of durability.persistent ? durability.warnings : []) add('filesystem', 'warn', warning)

  try {
    await access(paths.root, constants.W_OK)
    add('writable', 'ok', `${paths.root} is writable by uid ${process.getuid?.() ?? '?'}`)
  } catch {
    add(
      'writable',
      'fail',
      `${paths.root} is not writable by uid ${process.getuid?.() ?? '?'}; fix: chown -R ${process.getuid?.() ?? '<uid>'} ${paths.root}`,
    )
  }

  const space = await diskSpace(paths.root)
  report.storage.freeBytes = space.freeBytes
  report.storage.totalBytes = space.totalBytes
  add(
    'free space',
    space.freeBytes < LOW_DISK_BYTES ? 'warn' : 'ok',
    `${formatBytes(space.freeBytes)} free of ${formatBytes(space.totalBytes)} on ${durability.fsType ?? 'unknown filesystem'}` +
      (durability.mountPoint
        ? ` mounted at ${durability.mountPoint}${durability.isMountPoint ? ' (the root is the mount point)' : ''}`
        : ''),
  )

  try {
    const lock = inspectRootLock(paths.root)
    report.server = { running: lock.locked, pid: lock.holder?.pid ?? null, since: lock.holder?.startedAt ?? null }
    add(
      'server',
      'ok',
      lock.locked
        ? `a server is running on this root (pid ${lock.holder?.pid ?? '?'} on ${lock.holder?.hostname ?? '?'}, since ${lock.holder?.startedAt ?? '?'})`
        : 'no server is running on this root',
    )
  } catch (error) {
    add('server', 'warn', message(error))
  }

  try {
    const sandbox = await chooseSandbox(config.sandbox, {
      hidden: [paths.root, paths.workspaces],
      readOnly: config.sandboxReadOnly,
    })
    add('shell sandbox', sandbox.kind === 'host' && config.sandbox !== 'off' ? 'warn' : 'ok', sandbox.description)
  } catch (error) {
    add('shell sandbox', 'fail', message(error))
  }

  let sessionRefs: { id: string; workspaceDir: string }[] = []
  let location: StoreLocation | null = null
  try {
    location = storeLocation(config, paths.database)
    report.database.location = location.kind === 'postgres' ? redactDatabaseUrl(location.url) : location.file
  } catch (error) {
    add('database', 'fail', message(error))
  }
  if (location !== null && (location.kind === 'postgres' || (await exists(paths.database)))) {
    try {
      const store = await openStore(location, { readonly: true })
      report.database.exists = true
      try {
        if (location.kind === 'postgres') {
          const health = await storeHealth(store)
          report.database.pingMs = health.pingMs
          report.database.pool = health.pool
          add(
            'postgres',
            'ok',
            `${report.database.location}: a write transaction takes ${health.pingMs} ms; this process's pool ` +
              `${health.pool?.total ?? 0} open (${health.pool?.idle ?? 0} idle, ${health.pool?.waiting ?? 0} waiting) of ${health.pool?.max ?? 0}`,
          )
        }
        const state = await store.schemaState()
        report.database.schema = state.applied.at(-1) ?? null
        report.database.pendingMigrations = state.pending
        if (state.unknown.length > 0) {
          add(
            'schema',
            'fail',
            `written by a newer berth (unknown steps: ${state.unknown.join(', ')}); run that version`,
          )
        } else if (state.pending.length > 0) {
          add(
            'schema',
            'warn',
            `${state.pending.length} schema step(s) pending (${state.pending.join(', ')}); the next start applies them` +
              (location.kind === 'sqlite' ? ' after a backup' : ''),
          )
        } else {
          add('schema', 'ok', `${report.database.schema} (latest of ${MIGRATION_NAMES.length})`)
        }
        if (state.applied.length === 0) {
          // A database berth never started on (a new managed PostgreSQL): nothing to count or check yet.
          report.database.sessions = 0
          report.database.events = 0
          add('contents', 'ok', 'no tables yet; the first start creates them')
        } else {
          const integrity = await store.checkIntegrity()
          report.database.integrity = integrity
          add(
            'integrity',
            integrity.length === 1 && integrity[0] === 'ok' ? 'ok' : 'fail',
            integrity.slice(0, 5).join('; '),
          )
          const counts = await store.counts()
          report.database.sessions = counts.sessions
          report.database.events = counts.events
          add('contents', 'ok', `${counts.sessions} sessions, ${counts.events} events`)
          sessionRefs = await store.sessionRefs()
        }
      } finally {
        await store.close()
      }
    } catch (error) {
      add('database', 'fail', message(error))
    }
  } else if (location !== null) {
    add('database', 'ok', `${paths.database} does not exist yet; it is created on first start`)
  }

  if (config.workspaceUrl) {
    try {
      report.bucket = await bucketHealth(config, path.join(paths.root, 'workspace-scratch'))
      add(
        's3',
        'ok',
        `${report.bucket.url} at ${report.bucket.endpoint ?? 'AWS S3'}: the bucket answers in ${report.bucket.bucketMs} ms, ` +
          `a test object writes, reads back and is deleted in ${report.bucket.canaryMs} ms`,
      )
    } catch (error) {
      add('s3', 'fail', message(error))
    }
  }

  if (config.workspaceUrl) {
    // The local folder holds no workspaces in this mode (scratch copies live elsewhere): pairing folders with
    // sessions there would report every session as missing its folder.
    report.workspaces.count = null
    add(
      'workspaces',
      'ok',
      'kept in S3 (BERTH_WORKSPACE_URL); folders are paired with sessions for local workspaces only',
    )
  } else if (await exists(paths.workspaces)) {
    const workspaces = new Workspaces({ root: paths.workspaces, quotaBytes: null })
    const folders = await workspaces.list()
    report.workspaces.count = folders.length
    // A folder reached through a stored path's last segment belongs to that session.
    const claimed = new Set(sessionRefs.flatMap((ref) => [ref.id, ref.workspaceDir.split(/[\\/]/).at(-1) ?? '']))
    report.workspaces.withoutSession = folders.filter((name) => !claimed.has(name))
    for (const ref of sessionRefs) {
      if (!(await workspaces.exists(ref.id, ref.workspaceDir).catch(() => false))) {
        report.workspaces.sessionsWithoutWorkspace.push(ref.id)
      }
    }
    const orphans = report.workspaces.withoutSession.length + report.workspaces.sessionsWithoutWorkspace.length
    add(
      'workspaces',
      orphans > 0 ? 'warn' : 'ok',
      `${folders.length} workspace folders` +
        (report.workspaces.withoutSession.length
          ? `; ${report.workspaces.withoutSession.length} without a session`
          : '') +
        (report.workspaces.sessionsWithoutWorkspace.length
          ? `; ${report.workspaces.sessionsWithoutWorkspace.length} sessions without a folder`
          : ''),
    )
  } else {
    report.workspaces.count = 0
    add('workspaces', 'ok', `${paths.workspaces} does not exist yet`)
  }
  return finish(report)
}

function finish(report: DoctorReport): DoctorReport {
  report.ok = report.checks.every((check) => check.status !== 'fail')
  return report
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

function message(error: unknown): string {
  return isBerthError(error)
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? error.message
      : String(error)
}

import { mkdir } from 'node:fs/promises'
import type { BerthConfig } from '../config/config.js'
import { createLogger, type Logger } from '../logging/logger.js'
import { acquireRootLock, type RootLock } from '../storage/root-lock.js'
import { openStore, storeLocation } from '../store/open-store.js'
import type { UpgradeProgress } from '../store/sqlite/schema-upgrade.js'
import type { Store } from '../store/store.js'
import { chooseSandbox, noShell, removeStaleScratch, type ShellSandbox } from '../tools/bash/sandbox.js'
import { checkWorkspaceStorage, closeWorkspaceStorage, openWorkspaceStorage } from '../workspace/open-storage.js'
import type { WorkspaceKey, WorkspaceStorage } from '../workspace/workspace-storage.js'
import { Workspaces } from '../workspace/workspaces.js'
import { logStorageReport, prepareDataRoot, type StorageReport } from './storage-report.js'
import { upgradeLog } from './upgrade-log.js'

/**
 * Who is opening the root. A `server` takes the one-per-root lock; a `writer`
 * (the eval runner, `berth run`, import) shares the database through SQLite's
 * own locking; a `reader` (doctor, export, sessions) changes nothing.
 */
export type RuntimeRole = 'server' | 'writer' | 'reader'

export interface Runtime {
  config: BerthConfig
  logger: Logger
  storage: StorageReport
  store: Store
  /** Session folders on local disk, for what needs real paths (tools, shells, doctor, prune). */
  workspaces: Workspaces
  /** Where workspace files live (local disk, or S3 with BERTH_WORKSPACE_URL): what serves, uploads and reads them goes through this. */
  workspaceStorage: WorkspaceStorage
  /** The lease epoch of each workspace a run of this process holds; the storage fences writes with it. */
  runEpochs: Map<WorkspaceKey, number>
  /** Where agent shells run (BERTH_SANDBOX); chosen once at start. */
  sandbox: ShellSandbox
  lock: RootLock | null
  close(): Promise<void>
}

/**
 * Open the data root for a command: check it, start logging into it, take
 * the lock if serving, open (and migrate) the store, prepare `workspace/`.
 *
 * @example
 *   const runtime = await openRuntime(config, { role: 'server', command: 'berth serve' })
 */
export async function openRuntime(
  config: BerthConfig,
  options: {
    role: RuntimeRole
    command: string
    terminalLogs?: boolean
    /** False for a writer that runs no agent shell (`berth import`): no sandbox is chosen. Default: not a reader. */
    shells?: boolean
    /**
     * Runs once the root is checked, logging started and the lock taken, before
     * the store opens (and perhaps upgrades for minutes): `berth serve` opens its
     * port here. A failure releases the lock.
     */
    beforeStore?: (ready: { logger: Logger; storage: StorageReport }) => Promise<void>
    /** Where an upgrade of the existing database is (it is also logged). */
    onUpgradeProgress?: (progress: UpgradeProgress) => void
  },
): Promise<Runtime> {
  const readOnly = options.role === 'reader'
  const storage = await prepareDataRoot({ dataDir: config.dataDir, env: config.env, readOnly })
  const logger = createLogger({
    level: config.logLevel,
    file: readOnly ? undefined : storage.paths.logs,
    terminal: options.terminalLogs ?? true,
  })
  const lock = options.role === 'server' ? acquireRootLock(storage.paths.root, options.command) : null
  if (options.role === 'server') logStorageReport(logger, storage)
  try {
    await options.beforeStore?.({ logger, storage })
    const progressLog = upgradeLog(logger)
    const store = await openStore(storeLocation(config, storage.paths.database), {
      readonly: readOnly,
      onListenerError: (error) => logger.error({ err: error }, 'an event subscriber failed'),
      onCheckpointError: (error) =>
        logger.warn({ err: error }, 'the background WAL checkpoint failed; SQLite checkpoints inline instead'),
      onMigrationBackup: (file, backup) =>
        logger.info(
          { backup: file, pending: backup.pending, reused: backup.reused },
          backup.reused
            ? `A backup of this very database from before its schema update exists at ${file}; not taking another`
            : `Backed up the database to ${file} before updating its schema`,
        ),
      onUpgradeProgress: (progress) => {
        progressLog.progress(progress)
        options.onUpgradeProgress?.(progress)
      },
      onBusError: (error) => logger.warn({ err: error }, 'the PostgreSQL notification connection failed; reconnecting'),
    }).finally(() => progressLog.stop())
    if (!readOnly) await mkdir(storage.paths.workspaces, { recursive: true })
    const workspaces = new Workspaces({ root: storage.paths.workspaces, quotaBytes: config.workspaceQuota })
    const runEpochs = new Map<WorkspaceKey, number>()
    let workspaceStorage: WorkspaceStorage
    try {
      workspaceStorage = openWorkspaceStorage(config, {
        localRoot: storage.paths.workspaces,
        fileIndex: store.workspaceFiles(),
        epochOf: (key) => runEpochs.get(key),
      })
      // A missing bucket or a refused key stops the start, naming the setting.
      if (options.role === 'server') await checkWorkspaceStorage(workspaceStorage)
    } catch (error) {
      await store.close()
      throw error
    }
    const shells = options.shells ?? !readOnly
    const sandbox = shells
      ? await chooseSandbox(config.sandbox, {
          hidden: [storage.paths.root, storage.paths.workspaces],
          readOnly: config.sandboxReadOnly,
        }).catch(async (error: unknown) => {
          await store.close()
          throw error
        })
      : noShell(options.command)
    if (shells) {
      if (sandbox.kind === 'host' && config.sandbox !== 'off') logger.warn(sandbox.description)
      else logger.info(sandbox.description)
      if (sandbox.kind === 'bubblewrap') await removeStaleScratch()
    }
    return {
      config,
      logger,
      storage,
      store,
      workspaces,
      workspaceStorage,
      runEpochs,
      sandbox,
      lock,
      async close() {
        try {
          await store.close()
          await closeWorkspaceStorage(workspaceStorage)
        } finally {
          lock?.release()
          logger.flush()
        }
      },
    }
  } catch (error) {
    lock?.release()
    throw error
  }
}

import type { Logger } from '../logging/logger.js'
import { assessDurability, type Durability, ensureWritableRoot, writeCanary } from '../storage/checks.js'
import { chooseDataRoot, type DataPaths, type DataRootChoice, dataPaths } from '../storage/data-root.js'

/** How the data root will behave: `persistent` (a chosen disk), `local` (the current directory), `ephemeral` (will vanish). */
export type StorageMode = 'persistent' | 'local' | 'ephemeral'

export interface StorageReport {
  mode: StorageMode
  choice: DataRootChoice
  paths: DataPaths
  durability: Durability
}

/**
 * Choose the data root and prove it usable: exists or can be created,
 * writable, a canary survives write + fsync + read-back. Throws (never
 * falls back) when it is not. Read-only tools skip the write checks.
 */
export async function prepareDataRoot(input: {
  dataDir: string | undefined
  env: Record<string, string | undefined>
  cwd?: string
  persistentRoot?: string
  readOnly?: boolean
}): Promise<StorageReport> {
  const choice = chooseDataRoot({
    flag: input.dataDir,
    env: input.env,
    cwd: input.cwd ?? process.cwd(),
    persistentRoot: input.persistentRoot,
  })
  if (!input.readOnly) {
    await ensureWritableRoot(choice.root)
    await writeCanary(choice.root)
  }
  const durability = assessDurability(choice.root, {
    expectMount: choice.source === 'persistent-default' || choice.source === 'platform-volume',
  })
  const mode: StorageMode = !durability.persistent ? 'ephemeral' : choice.source === 'cwd' ? 'local' : 'persistent'
  return { mode, choice, paths: dataPaths(choice.root), durability }
}

/** The boot lines: the reference system's wording first, so existing log searches keep working. */
export function logStorageReport(logger: Logger, report: StorageReport): void {
  const { paths, choice } = report
  logger.info(
    report.mode === 'persistent'
      ? 'Using persistent storage for workspace files'
      : 'Using local storage for workspace files',
  )
  logger.info(
    {
      root: paths.root,
      source: choice.source,
      database: paths.database,
      workspaces: paths.workspaces,
      logs: paths.logs,
    },
    `Data root ${paths.root} (${describeSource(choice)})`,
  )
  for (const warning of report.durability.warnings) {
    logger.warn(`WARNING: ${warning}`)
  }
}

function describeSource(choice: DataRootChoice): string {
  switch (choice.source) {
    case 'flag':
      return 'from --data-dir'
    case 'env':
      return 'from BERTH_DATA_DIR'
    case 'platform-volume':
      return 'from RAILWAY_VOLUME_MOUNT_PATH'
    case 'persistent-default':
      return 'found /var/data'
    case 'cwd':
      return 'the current directory; set --data-dir or BERTH_DATA_DIR, or mount a disk at /var/data, to keep data elsewhere'
  }
}

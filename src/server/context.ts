import type { RunManager } from '../agent/runs.js'
import type { BerthConfig } from '../config/config.js'
import type { Logger } from '../logging/logger.js'
import type { StorageReport } from '../runtime/storage-report.js'
import type { Store } from '../store/store.js'
import type { ShellSandbox } from '../tools/bash/sandbox.js'
import type { WorkspaceStorage } from '../workspace/workspace-storage.js'
import type { Workspaces } from '../workspace/workspaces.js'

/** What route plugins get: the parts they talk to, never the raw database or disk. */
export interface ServerContext {
  config: BerthConfig
  store: Store
  /** Session folders on local disk (the shell's cwd, doctor-style walks); file routes use `workspaceStorage`. */
  workspaces: Workspaces
  /** Where workspace files live: every file route reads and writes through it, by workspace key. */
  workspaceStorage: WorkspaceStorage
  storage: StorageReport
  logger: Logger
  runs: RunManager
  /** Where shells run: the agent's, and the WebSocket's terminal_command. */
  sandbox: ShellSandbox
}

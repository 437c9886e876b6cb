import type { RunManager } from '../agent/runs.js'
import type { BerthConfig } from '../config/config.js'
import type { Logger } from '../logging/logger.js'
import type { StorageReport } from '../runtime/storage-report.js'
import type { Store } from '../store/store.js'
import type { ShellSandbox } from '../tools/bash/sandbox.js'
import type { Workspaces } from '../workspace/workspaces.js'

/** What route plugins get: the parts they talk to, never the raw database or disk. */
export interface ServerContext {
  config: BerthConfig
  store: Store
  workspaces: Workspaces
  storage: StorageReport
  logger: Logger
  runs: RunManager
  /** Where shells run: the agent's, and the WebSocket's terminal_command. */
  sandbox: ShellSandbox
}

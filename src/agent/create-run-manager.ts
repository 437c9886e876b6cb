import type { BerthConfig } from '../config/config.js'
import { createLlm } from '../llm/create-llm.js'
import type { Logger } from '../logging/logger.js'
import type { Store } from '../store/store.js'
import type { ShellSandbox } from '../tools/bash/sandbox.js'
import { createToolset, selectToolset } from '../tools/toolset.js'
import type { WorkspaceKey, WorkspaceStorage } from '../workspace/workspace-storage.js'
import type { Workspaces } from '../workspace/workspaces.js'
import { createContextManager } from './context/create-context-manager.js'
import { AgentRunManager, type AgentRunManagerOptions } from './run-manager.js'

/**
 * The run manager with berth's real parts: models from `createLlm` (the
 * run's model id and provider hint over BERTH_MODEL), the toolset of
 * `createToolset` (one list serves every session; per-session state lives
 * in the session's resources; shells run in the runtime's sandbox), or its
 * GAIA subset for a run started with `toolset: 'gaia'`, and the
 * configured context manager (BERTH_CONTEXT_MANAGER, BERTH_CONTEXT_TOKENS)
 * before every model call.
 *
 * @example
 *   const runtime = await openRuntime(config, { role: 'server', command: 'berth serve' })
 *   const runs = createRunManager(runtime)
 *   await runs.recoverInterrupted()   // the server only: it owns the root
 *   ...
 *   await runs.shutdown()
 */
export function createRunManager(
  runtime: {
    config: BerthConfig
    store: Store
    workspaces: Workspaces
    /** Where workspace files live; the local storage of `workspaces` when not given. */
    workspaceStorage?: WorkspaceStorage
    /** The runtime's record of lease epochs by workspace, read by the storage's write fence. */
    runEpochs?: Map<WorkspaceKey, number>
    logger: Logger
    sandbox: ShellSandbox
  },
  overrides: Partial<AgentRunManagerOptions> = {},
): AgentRunManager {
  const { config, logger } = runtime
  const workspaceStorage = runtime.workspaceStorage ?? runtime.workspaces.storage
  const tools = createToolset(config, { sandbox: runtime.sandbox, logger })
  // Fixed lists, so the run manager's per-list cache of tool specs holds.
  const toolsets = { default: tools, gaia: selectToolset(tools, 'gaia') }
  const contextManager = createContextManager({
    kind: config.contextManager,
    tokenBudget: config.contextTokens,
    storage: workspaceStorage,
    logger: logger.child({ part: 'context' }),
  })
  return new AgentRunManager({
    store: runtime.store,
    workspaces: runtime.workspaces,
    workspaceStorage,
    ...(runtime.runEpochs ? { runEpochs: runtime.runEpochs } : {}),
    logger,
    config,
    createProvider: (choice) => createLlm(config, { ...choice, logger: logger.child({ part: 'llm' }) }),
    createTools: ({ toolset }) => toolsets[toolset],
    createContext:
      ({ sessionId }) =>
      (messages) =>
        contextManager.apply(messages, sessionId),
    ...overrides,
  })
}

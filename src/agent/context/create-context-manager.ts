import type { Logger } from '../../logging/logger.js'
import type { WorkspaceStorage } from '../../workspace/workspace-storage.js'
import type { ContextManager, ContextManagerKind } from './context-manager.js'
import { createFileBasedContextManager } from './file-based-context-manager.js'
import { createStandardContextManager } from './standard-context-manager.js'

export interface CreateContextManagerOptions {
  /** BERTH_CONTEXT_MANAGER; default `file-based`. */
  kind?: ContextManagerKind
  /** BERTH_CONTEXT_TOKENS; default 120 000. */
  tokenBudget?: number
  /** Where the file-based manager keeps old tool outputs (`agent_memory/`). */
  storage: WorkspaceStorage
  logger?: Logger
}

/**
 * The configured context manager; one per process serves every session.
 *
 * @example
 *   const contextManager = createContextManager({
 *     kind: config.contextManager, tokenBudget: config.contextTokens, storage, logger,
 *   })
 */
export function createContextManager(options: CreateContextManagerOptions): ContextManager {
  if (options.kind === 'standard') return createStandardContextManager({ tokenBudget: options.tokenBudget })
  return createFileBasedContextManager({
    storage: options.storage,
    tokenBudget: options.tokenBudget,
    logger: options.logger,
  })
}

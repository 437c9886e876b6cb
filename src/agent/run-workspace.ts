import type { SessionRecord } from '../store/types.js'
import type { AnyTool } from '../tools/run-tool.js'
import type { LocalFolder, WorkspaceKey, WorkspaceStorage } from '../workspace/workspace-storage.js'
import { workspaceKey } from '../workspace/workspace-storage.js'

/** The workspace of one run: its key in the storage and the real folder the tools and the shell work in. */
export interface RunWorkspace {
  key: WorkspaceKey
  folder: LocalFolder
}

/**
 * The session's workspace for a run, created when missing, with a real
 * folder for the tools (`ToolContext.workspaceDir` is `folder.dir`): the
 * workspace itself on local disk, a scratch copy for remote storage. Release
 * `folder` when the run ends.
 *
 * @example
 *   const { key, folder } = await openRunWorkspace(storage, session)
 */
export async function openRunWorkspace(storage: WorkspaceStorage, session: SessionRecord): Promise<RunWorkspace> {
  const key = await workspaceKey(storage, session)
  if (!(await storage.exists(key))) await storage.create(key)
  return { key, folder: await storage.localFolder(key) }
}

/**
 * The same tools, each call followed by `folder.sync()`, so what a tool
 * changed in the run's folder reaches the storage before the next step (a
 * no-op for local storage). The tool objects themselves are left as they are.
 *
 * @example
 *   runAgentLoop({ tools: syncingTools(tools, folder), toolSpecs: toolSpecs(tools), ... })
 */
export function syncingTools(tools: readonly AnyTool[], folder: LocalFolder): AnyTool[] {
  return tools.map((tool) => ({
    ...tool,
    execute: async (input, context) => {
      try {
        return await tool.execute(input, context)
      } finally {
        await folder.sync()
      }
    },
  }))
}

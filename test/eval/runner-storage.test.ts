import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { RunManager, RunOutcome } from '../../src/agent/runs.js'
import { evalRunPaths } from '../../src/eval/eval-run-files.js'
import { loadGaiaDataset } from '../../src/eval/gaia-dataset.js'
import { runGaia } from '../../src/eval/gaia-runner.js'
import { createLogger } from '../../src/logging/logger.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { LocalWorkspaceStorage } from '../../src/workspace/local-storage.js'
import { Workspaces } from '../../src/workspace/workspaces.js'
import { tempDir } from '../helpers/temp-dir.js'
import { writeDataset } from './fixtures.js'

describe('runGaia with workspaces kept elsewhere (S3 in production)', () => {
  it("puts a task's attachment where the run reads its workspace, not in the local folders", async () => {
    const root = await tempDir()
    const dataset = await loadGaiaDataset(
      await writeDataset(
        join(root, 'gaia'),
        [{ task_id: 't1', Question: 'Sum the column.', Level: 1, 'Final answer': '3', file_name: 'nums.csv' }],
        { 'nums.csv': 'n\n1\n2\n' },
      ),
      'validation',
    )
    const store = await SqliteStore.open({ file: join(root, 'events.db') })
    const workspaces = new Workspaces({ root: join(root, 'workspace'), quotaBytes: null })
    // What a run does first (src/agent/run-workspace.ts): take a real folder from the storage.
    const storage = new LocalWorkspaceStorage({ root: join(root, 'elsewhere'), quotaBytes: null })
    const seen: { attachment: string; files: string[] }[] = []
    const runs = {
      start: async (input: { sessionId: string; files: string[] }) => {
        const folder = await storage.localFolder(input.sessionId)
        seen.push({
          attachment: await readFile(join(folder.dir, ...input.files[0]!.split('/')), 'utf8'),
          files: input.files,
        })
        await folder.release()
      },
      wait: async (): Promise<RunOutcome> => ({
        status: 'completed',
        answer: null,
        turns: 1,
        usage: { inputTokens: 0, outputTokens: 0 },
      }),
      cancel: async () => {},
    } as unknown as RunManager
    try {
      const paths = evalRunPaths(root, 'elsewhere')
      await mkdir(paths.dir, { recursive: true })
      await runGaia(
        {
          store,
          workspaces,
          workspaceStorage: storage,
          runs,
          logger: createLogger({ level: 'silent', terminal: false }),
        },
        { paths, dataset, tasks: dataset.tasks, concurrency: 1, model: 'chutes:m' },
      )
      expect(seen).toEqual([{ attachment: 'n\n1\n2\n', files: ['uploaded_files/nums.csv'] }])
      expect(await workspaces.list()).toEqual([])
    } finally {
      await store.close()
    }
  })
})

import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { RunManager } from '../../src/agent/runs.js'
import { BerthError } from '../../src/core/errors.js'
import { evalRunPaths } from '../../src/eval/eval-run-files.js'
import { loadGaiaDataset } from '../../src/eval/gaia-dataset.js'
import { runGaia } from '../../src/eval/gaia-runner.js'
import { createLogger } from '../../src/logging/logger.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { Workspaces } from '../../src/workspace/workspaces.js'
import { tempDir } from '../helpers/temp-dir.js'
import { readResults, writeDataset } from './fixtures.js'

describe('runGaia in a server that shuts down', () => {
  it('records a task whose run the shutting-down run manager refused as interrupted (run again), not as an error', async () => {
    const root = await tempDir()
    const dataset = await loadGaiaDataset(
      await writeDataset(join(root, 'gaia'), [{ task_id: 't1', Question: 'Two?', Level: 1, 'Final answer': '2' }]),
      'validation',
    )
    const store = await SqliteStore.open({ file: join(root, 'events.db') })
    try {
      // The server's run manager once shutdown() began: every start is refused (src/agent/run-manager.ts).
      const runs = {
        start: async () => {
          throw new BerthError('RUNS_SHUT_DOWN', 'The server is shutting down; no new runs start.')
        },
      } as unknown as RunManager
      const paths = evalRunPaths(root, 'closing')
      await mkdir(paths.dir, { recursive: true })
      const report = await runGaia(
        {
          store,
          workspaces: new Workspaces({ root: join(root, 'workspace'), quotaBytes: null }),
          runs,
          logger: createLogger({ level: 'silent', terminal: false }),
        },
        { paths, dataset, tasks: dataset.tasks, concurrency: 1, model: 'chutes:m' },
      )
      expect(report.stopped).toBe(true)
      const [result] = await readResults(root, 'closing')
      expect(result).toMatchObject({ task_id: 't1', status: 'interrupted', correct: null })
      expect(result?.error?.code).toBe('EVAL_TASK_INTERRUPTED')
    } finally {
      await store.close()
    }
  })
})

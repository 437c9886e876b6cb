import path from 'node:path'
import type { BerthConfig } from '../config/config.js'
import { BerthError } from '../core/errors.js'
import { connectionFor } from '../llm/presets.js'
import { resolveModel } from '../llm/resolve-model.js'
import { type EvalRunPaths, readManifest, writeManifest } from './eval-run-files.js'
import { attachmentPath, type GaiaDataset, type GaiaSplit, type GaiaTask } from './gaia-dataset.js'
import { downloadHubSnapshot, type HubSnapshot } from './hub-snapshot.js'

/**
 * The model a run will use, as `provider:model`, refused up front when its
 * provider has no key (otherwise every task would fail the same way).
 *
 * @example
 *   evalModel(config, 'openrouter:anthropic/claude-sonnet-4') // 'openrouter:anthropic/claude-sonnet-4'
 */
export function evalModel(config: BerthConfig, modelId: string | undefined): string {
  const choice = resolveModel(config, { modelId })
  const connection = connectionFor(config, choice.provider)
  if (!connection.configured) {
    throw new BerthError(
      'LLM_NOT_CONFIGURED',
      `The model ${choice.model} goes to ${choice.provider}, which is not configured: ${connection.missingHint}.`,
      { details: { provider: choice.provider, model: choice.model } },
    )
  }
  return `${choice.provider}:${choice.model}`
}

export interface TaskSelection {
  /** Dataset order, end exclusive (the reference runner's --start-index/--end-index). */
  start?: number | undefined
  end?: number | undefined
  /** Exactly these tasks, in this order; wins over start/end. */
  taskIds?: readonly string[] | undefined
}

/**
 * The tasks a run asks for, with their attachments checked now rather than
 * one by one mid-run.
 *
 * @example
 *   await selectTasks(dataset, { start: 0, end: 20 })
 */
export async function selectTasks(dataset: GaiaDataset, selection: TaskSelection): Promise<GaiaTask[]> {
  let tasks: GaiaTask[]
  if (selection.taskIds !== undefined && selection.taskIds.length > 0) {
    const byId = new Map(dataset.tasks.map((task) => [task.taskId, task]))
    tasks = selection.taskIds.map((id) => {
      const task = byId.get(id)
      if (task === undefined) {
        throw new BerthError('EVAL_DATASET_INVALID', `No task ${id} in ${dataset.metadataFile}.`, {
          details: { taskId: id, file: dataset.metadataFile },
        })
      }
      return task
    })
  } else {
    tasks = dataset.tasks.slice(selection.start ?? 0, selection.end)
    if (tasks.length === 0) {
      throw new BerthError(
        'INVALID_REQUEST',
        `--start ${selection.start ?? 0} --end ${selection.end ?? dataset.tasks.length} selects no task: ` +
          `${dataset.metadataFile} has ${dataset.tasks.length}.`,
      )
    }
  }
  for (const task of tasks) await attachmentPath(dataset, task)
  return tasks
}

/**
 * Record what the run is about on its first start; refuse a resume on
 * another split (its results would mix). Returns a warning when the model
 * changed, which is allowed (each result names its model).
 */
export async function ensureManifest(
  paths: EvalRunPaths,
  wanted: { split: GaiaSplit; dataset: string; model: string },
): Promise<string | null> {
  const existing = await readManifest(paths)
  if (existing === null) {
    await writeManifest(paths, { run_name: paths.runName, ...wanted, created_at: new Date().toISOString() })
    return null
  }
  if (existing.split !== wanted.split) {
    throw new BerthError(
      'EVAL_RUN_MISMATCH',
      `Run ${paths.runName} was started on the ${existing.split} split, not ${wanted.split}: ` +
        'resume it with the same --split, or start another --run-name.',
      { details: { runName: paths.runName, split: existing.split } },
    )
  }
  if (existing.model !== wanted.model) {
    return `Run ${paths.runName} was started with ${existing.model}; tasks run now use ${wanted.model} (each result names its model).`
  }
  return null
}

/**
 * Fetch one split of the GAIA dataset from the hub (HF_ENDPOINT,
 * BERTH_GAIA_DATASET, BERTH_GAIA_REVISION, HF_TOKEN) into `target`, by
 * default `<root>/eval/hub/<owner>/<name>`; returns the folder to load.
 *
 * @example
 *   const dir = await fetchGaiaFromHub(config, root, 'validation')
 */
export async function fetchGaiaFromHub(
  config: BerthConfig,
  root: string,
  split: GaiaSplit,
  options: { target?: string | undefined; onFile?: (file: string, index: number, total: number) => void } = {},
): Promise<{ dir: string; snapshot: HubSnapshot }> {
  const dir = path.resolve(options.target ?? path.join(root, 'eval', 'hub', ...config.gaiaDataset.split('/')))
  const prefix = `2023/${split}/`
  const snapshot = await downloadHubSnapshot({
    endpoint: config.hfEndpoint,
    repo: config.gaiaDataset,
    revision: config.gaiaRevision,
    token: config.hfToken,
    include: (file) => file.startsWith(prefix),
    target: dir,
    ...(options.onFile === undefined ? {} : { onFile: options.onFile }),
  })
  return { dir, snapshot }
}

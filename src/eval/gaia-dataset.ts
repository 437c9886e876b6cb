import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { BerthError, isBerthError } from '../core/errors.js'
import { resolveInside } from '../workspace/containment.js'

export type GaiaSplit = 'validation' | 'test'

/** One question of the GAIA dataset, as `metadata.jsonl` describes it. */
export interface GaiaTask {
  taskId: string
  question: string
  /** `1`, `2` or `3`, as text. */
  level: string
  /** The `Final answer`; null when the split keeps it private (the test split's `?`). */
  finalAnswer: string | null
  /** The attachment's name in the dataset (`file_name`), null when the question has none. */
  fileName: string | null
  /** 1-based line of `metadata.jsonl`, for messages. */
  line: number
}

export interface GaiaDataset {
  /** The folder holding `metadata.jsonl` and the attachments. */
  dir: string
  metadataFile: string
  split: GaiaSplit
  tasks: GaiaTask[]
}

/**
 * Where `metadata.jsonl` may sit: the hub's layout (`2023/<split>/`), a
 * `<split>/` folder, or a flat folder.
 */
export function metadataCandidates(dir: string, split: GaiaSplit): string[] {
  return [
    path.join(dir, '2023', split, 'metadata.jsonl'),
    path.join(dir, split, 'metadata.jsonl'),
    path.join(dir, 'metadata.jsonl'),
  ]
}

/**
 * Read a GAIA split from disk. Refuses, with the file and line, anything the
 * runner could not use: a missing file, invalid JSON, a missing field, a
 * duplicated task id.
 *
 * @example
 *   const dataset = await loadGaiaDataset('data/gaia', 'validation')
 *   dataset.tasks[0] // { taskId: 'c61d22de-…', question: '…', level: '2', finalAnswer: 'egalitarian', … }
 */
export async function loadGaiaDataset(dir: string, split: GaiaSplit): Promise<GaiaDataset> {
  const root = path.resolve(dir)
  const info = await stat(root).catch(() => null)
  if (info === null || !info.isDirectory()) {
    throw new BerthError('EVAL_DATASET_NOT_FOUND', `The GAIA dataset folder ${root} does not exist.`, {
      status: 404,
      details: { dir: root },
    })
  }
  const candidates = metadataCandidates(root, split)
  let metadataFile: string | undefined
  for (const candidate of candidates) {
    if ((await stat(candidate).catch(() => null))?.isFile()) {
      metadataFile = candidate
      break
    }
  }
  if (metadataFile === undefined) throw await notFound(root, split, candidates)
  const text = await readFile(metadataFile, 'utf8')
  return { dir: path.dirname(metadataFile), metadataFile, split, tasks: parseMetadata(text, metadataFile) }
}

/**
 * Parse the lines of a `metadata.jsonl`; blank lines are skipped.
 *
 * @example
 *   parseMetadata('{"task_id":"t1","Question":"2+2?","Level":1,"Final answer":"4","file_name":""}\n', 'm.jsonl')
 */
export function parseMetadata(text: string, file: string): GaiaTask[] {
  const tasks: GaiaTask[] = []
  const seen = new Map<string, number>()
  const lines = text.split('\n')
  for (const [index, raw] of lines.entries()) {
    const line = index + 1
    if (raw.trim().length === 0) continue
    const fail = (why: string): BerthError =>
      new BerthError('EVAL_DATASET_INVALID', `${file}:${line}: ${why}`, { status: 400, details: { file, line } })
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch (error) {
      throw fail(`not valid JSON (${error instanceof Error ? error.message : String(error)})`)
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('not a JSON object')
    const task = toTask(value as Record<string, unknown>, line, fail)
    const earlier = seen.get(task.taskId)
    if (earlier !== undefined) throw fail(`task_id ${task.taskId} already appears on line ${earlier}`)
    seen.set(task.taskId, line)
    tasks.push(task)
  }
  if (tasks.length === 0) {
    throw new BerthError('EVAL_DATASET_INVALID', `${file} has no tasks.`, { status: 400, details: { file } })
  }
  return tasks
}

function toTask(row: Record<string, unknown>, line: number, fail: (why: string) => BerthError): GaiaTask {
  const text = (name: string, optional = false): string | null => {
    const value = row[name]
    if (value === undefined || value === null) {
      if (optional) return null
      throw fail(`"${name}" is missing`)
    }
    if (typeof value === 'number') return String(value)
    if (typeof value !== 'string') throw fail(`"${name}" must be text, not ${JSON.stringify(value)}`)
    return value
  }
  const taskId = text('task_id') as string
  if (taskId.trim().length === 0) throw fail('"task_id" is empty')
  const level = (text('Level') as string).trim()
  if (!/^\d+$/.test(level)) throw fail(`"Level" must be a number, not ${JSON.stringify(row.Level)}`)
  const answer = text('Final answer') as string
  const fileName = text('file_name', true)
  return {
    taskId,
    question: text('Question') as string,
    level,
    // The test split hides its answers behind '?'.
    finalAnswer: answer === '?' ? null : answer,
    fileName: fileName === null || fileName.trim() === '' ? null : fileName,
    line,
  }
}

/**
 * The attachment of a task, checked to exist inside the dataset folder (its
 * name comes from a file and goes through the containment check like any
 * outside path).
 *
 * @example
 *   await attachmentPath(dataset, task) // '/data/gaia/2023/validation/32102e3e.xlsx'
 */
export async function attachmentPath(dataset: GaiaDataset, task: GaiaTask): Promise<string | null> {
  if (task.fileName === null) return null
  const where = `${dataset.metadataFile}:${task.line}`
  let file: string
  try {
    file = await resolveInside(dataset.dir, task.fileName)
  } catch (error) {
    if (!isBerthError(error)) throw error
    throw new BerthError(
      'EVAL_DATASET_INVALID',
      `${where}: file_name ${JSON.stringify(task.fileName)}: ${error.message}`,
      {
        status: 400,
        cause: error,
        details: { file: dataset.metadataFile, line: task.line },
      },
    )
  }
  if (!(await stat(file).catch(() => null))?.isFile()) {
    throw new BerthError(
      'EVAL_DATASET_INVALID',
      `${where}: the attachment ${task.fileName} of task ${task.taskId} is not in ${dataset.dir}.`,
      { status: 400, details: { file: dataset.metadataFile, line: task.line, attachment: task.fileName } },
    )
  }
  return file
}

async function notFound(root: string, split: GaiaSplit, candidates: string[]): Promise<BerthError> {
  const parquet = candidates.map((file) => file.replace(/\.jsonl$/, '.parquet'))
  for (const file of parquet) {
    if ((await stat(file).catch(() => null))?.isFile()) {
      return new BerthError(
        'EVAL_DATASET_NOT_FOUND',
        `${root} has ${path.relative(root, file)} but no metadata.jsonl beside it; berth reads the JSON-lines ` +
          'metadata. Convert it once, e.g. python -c "import pandas as p; ' +
          `p.read_parquet('${file}').to_json('${file.replace(/\.parquet$/, '.jsonl')}', orient='records', lines=True)"`,
        { status: 404, details: { dir: root, split, parquet: file } },
      )
    }
  }
  return new BerthError(
    'EVAL_DATASET_NOT_FOUND',
    `No GAIA ${split} metadata in ${root}: looked for ${candidates.map((f) => path.relative(root, f)).join(', ')}.`,
    { status: 404, details: { dir: root, split, looked: candidates } },
  )
}

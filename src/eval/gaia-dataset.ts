import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { parquetReadObjects } from 'hyparquet'
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
  /** 1-based line of `metadata.jsonl` (row of `metadata.parquet`), for messages. */
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
 * Where the metadata may sit: the hub's layout (`2023/<split>/`), a
 * `<split>/` folder, or a flat folder; as JSON lines or, as the hub's current
 * snapshot ships it, Parquet. JSON lines win when both are present.
 */
export function metadataCandidates(dir: string, split: GaiaSplit): string[] {
  const folders = [path.join(dir, '2023', split), path.join(dir, split), dir]
  return [
    ...folders.map((folder) => path.join(folder, 'metadata.jsonl')),
    ...folders.map((folder) => path.join(folder, 'metadata.parquet')),
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
  if (metadataFile === undefined) throw notFound(root, split, candidates)
  const tasks = metadataFile.endsWith('.parquet')
    ? await readParquetMetadata(metadataFile)
    : parseMetadata(await readFile(metadataFile, 'utf8'), metadataFile)
  return { dir: path.dirname(metadataFile), metadataFile, split, tasks }
}

/** The rows of a `metadata.parquet`, checked like JSON lines (a row number stands for the line). */
async function readParquetMetadata(file: string): Promise<GaiaTask[]> {
  let rows: Record<string, unknown>[]
  try {
    const bytes = await readFile(file)
    const buffer = new ArrayBuffer(bytes.byteLength)
    new Uint8Array(buffer).set(bytes)
    rows = (await parquetReadObjects({ file: buffer })) as Record<string, unknown>[]
  } catch (error) {
    throw new BerthError(
      'EVAL_DATASET_INVALID',
      `${file}: not a readable Parquet file (${error instanceof Error ? error.message : String(error)}).`,
      { details: { file } },
    )
  }
  return parseRows(
    rows.map((row, index) => ({ line: index + 1, value: row })),
    file,
  )
}

/**
 * Parse the lines of a `metadata.jsonl`; blank lines are skipped.
 *
 * @example
 *   parseMetadata('{"task_id":"t1","Question":"2+2?","Level":1,"Final answer":"4","file_name":""}\n', 'm.jsonl')
 */
export function parseMetadata(text: string, file: string): GaiaTask[] {
  const rows: { line: number; value: unknown }[] = []
  for (const [index, raw] of text.split('\n').entries()) {
    const line = index + 1
    if (raw.trim().length === 0) continue
    try {
      rows.push({ line, value: JSON.parse(raw) })
    } catch (error) {
      throw datasetError(file, line, `not valid JSON (${error instanceof Error ? error.message : String(error)})`)
    }
  }
  return parseRows(rows, file)
}

function datasetError(file: string, line: number, why: string): BerthError {
  return new BerthError('EVAL_DATASET_INVALID', `${file}:${line}: ${why}`, { details: { file, line } })
}

function parseRows(rows: { line: number; value: unknown }[], file: string): GaiaTask[] {
  const tasks: GaiaTask[] = []
  const seen = new Map<string, number>()
  for (const { line, value } of rows) {
    const fail = (why: string): BerthError => datasetError(file, line, why)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('not a JSON object')
    const task = toTask(value as Record<string, unknown>, line, fail)
    const earlier = seen.get(task.taskId)
    if (earlier !== undefined) throw fail(`task_id ${task.taskId} already appears on line ${earlier}`)
    seen.set(task.taskId, line)
    tasks.push(task)
  }
  if (tasks.length === 0) {
    throw new BerthError('EVAL_DATASET_INVALID', `${file} has no tasks.`, { details: { file } })
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
        cause: error,
        details: { file: dataset.metadataFile, line: task.line },
      },
    )
  }
  if (!(await stat(file).catch(() => null))?.isFile()) {
    throw new BerthError(
      'EVAL_DATASET_INVALID',
      `${where}: the attachment ${task.fileName} of task ${task.taskId} is not in ${dataset.dir}.`,
      { details: { file: dataset.metadataFile, line: task.line, attachment: task.fileName } },
    )
  }
  return file
}

function notFound(root: string, split: GaiaSplit, candidates: string[]): BerthError {
  return new BerthError(
    'EVAL_DATASET_NOT_FOUND',
    `No GAIA ${split} metadata in ${root}: looked for ${candidates.map((f) => path.relative(root, f)).join(', ')}.`,
    { details: { dir: root, split, looked: candidates } },
  )
}

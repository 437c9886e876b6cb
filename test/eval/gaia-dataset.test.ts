import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parquetWriteBuffer } from 'hyparquet-writer'
import { describe, expect, it } from 'vitest'
import { BerthError } from '../../src/core/errors.js'
import { attachmentPath, loadGaiaDataset } from '../../src/eval/gaia-dataset.js'
import { extractFinalAnswer, gaiaPrompt } from '../../src/eval/gaia-prompt.js'
import { selectTasks } from '../../src/eval/gaia-setup.js'
import { tempDir } from '../helpers/temp-dir.js'

const row = (fields: Record<string, unknown>) =>
  JSON.stringify({ task_id: 't1', Question: 'Q?', Level: 1, 'Final answer': 'A', file_name: '', ...fields })

async function failure(promise: Promise<unknown>): Promise<BerthError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(BerthError)
  return error as BerthError
}

describe('GAIA dataset loading', () => {
  it('reads the hub layout (2023/<split>/metadata.jsonl) and a flat folder', async () => {
    const root = await tempDir()
    await mkdir(join(root, 'hub', '2023', 'test'), { recursive: true })
    await writeFile(
      join(root, 'hub', '2023', 'test', 'metadata.jsonl'),
      `${row({ task_id: 'a', Level: '2', 'Final answer': '?' })}\r\n\n${row({ task_id: 'b', file_name: 'x.csv' })}\n`,
    )
    const hub = await loadGaiaDataset(join(root, 'hub'), 'test')
    expect(hub.dir).toBe(join(root, 'hub', '2023', 'test'))
    expect(hub.tasks).toEqual([
      { taskId: 'a', question: 'Q?', level: '2', finalAnswer: null, fileName: null, line: 1 },
      { taskId: 'b', question: 'Q?', level: '1', finalAnswer: 'A', fileName: 'x.csv', line: 3 },
    ])

    await mkdir(join(root, 'flat'))
    await writeFile(join(root, 'flat', 'metadata.jsonl'), `${row({ 'Final answer': 17 })}\n`)
    const flat = await loadGaiaDataset(join(root, 'flat'), 'validation')
    expect(flat.dir).toBe(join(root, 'flat'))
    expect(flat.tasks[0]?.finalAnswer).toBe('17')
  })

  it('names the file and line of a malformed or incomplete task', async () => {
    const dir = await tempDir()
    const file = join(dir, 'metadata.jsonl')
    const cases: [string, RegExp][] = [
      [`${row({})}\n{"task_id": "t2", "Question": `, /metadata\.jsonl:2: not valid JSON/],
      [`${row({})}\n\n[1, 2]\n`, /metadata\.jsonl:3: not a JSON object/],
      [row({ Question: undefined }), /metadata\.jsonl:1: "Question" is missing/],
      [row({ Level: 'hard' }), /metadata\.jsonl:1: "Level" must be a number/],
      [row({ 'Final answer': ['a'] }), /metadata\.jsonl:1: "Final answer" must be text/],
      [`${row({})}\n${row({})}\n`, /metadata\.jsonl:2: task_id t1 already appears on line 1/],
      ['\n\n', /metadata\.jsonl has no tasks/],
    ]
    for (const [text, message] of cases) {
      await writeFile(file, text)
      const error = await failure(loadGaiaDataset(dir, 'validation'))
      expect(error.code).toBe('EVAL_DATASET_INVALID')
      expect(error.message).toMatch(message)
      expect(error.message).toContain(file)
    }
  })

  it('says what it looked for when there is no metadata, and refuses an unreadable parquet file', async () => {
    const dir = await tempDir()
    const missing = await failure(loadGaiaDataset(join(dir, 'nope'), 'validation'))
    expect(missing.code).toBe('EVAL_DATASET_NOT_FOUND')
    expect(missing.message).toContain('does not exist')

    const empty = await failure(loadGaiaDataset(dir, 'validation'))
    expect(empty.message).toContain('2023/validation/metadata.jsonl, validation/metadata.jsonl, metadata.jsonl')
    expect(empty.message).toContain('2023/validation/metadata.parquet')

    await mkdir(join(dir, '2023', 'validation'), { recursive: true })
    await writeFile(join(dir, '2023', 'validation', 'metadata.parquet'), 'PAR1 but not really')
    const broken = await failure(loadGaiaDataset(dir, 'validation'))
    expect(broken.code).toBe('EVAL_DATASET_INVALID')
    expect(broken.message).toContain('metadata.parquet: not a readable Parquet file')
  })

  it('reads the hub snapshot’s metadata.parquet like JSON lines, rows standing for lines', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, '2023', 'validation'), { recursive: true })
    const columns = {
      task_id: ['p1', 'p2', 'p3'],
      Question: ['What is 2+2?', 'Name the file.', 'Café? 日本語'],
      Level: ['1', '2', '3'],
      'Final answer': ['4', 'data.xlsx', 'oui'],
      file_name: ['', 'data.xlsx', ''],
    }
    const buffer = parquetWriteBuffer({
      columnData: Object.entries(columns).map(([name, data]) => ({ name, data, type: 'STRING' as const })),
    })
    await writeFile(join(dir, '2023', 'validation', 'metadata.parquet'), Buffer.from(buffer))
    const dataset = await loadGaiaDataset(dir, 'validation')
    expect(dataset.metadataFile.endsWith('metadata.parquet')).toBe(true)
    expect(dataset.tasks.map((t) => [t.taskId, t.question, t.level, t.finalAnswer, t.fileName, t.line])).toEqual([
      ['p1', 'What is 2+2?', '1', '4', null, 1],
      ['p2', 'Name the file.', '2', 'data.xlsx', 'data.xlsx', 2],
      ['p3', 'Café? 日本語', '3', 'oui', null, 3],
    ])

    const bad = parquetWriteBuffer({
      columnData: [
        { name: 'task_id', data: ['x1', 'x2'], type: 'STRING' as const },
        { name: 'Question', data: ['q', 'q'], type: 'STRING' as const },
        { name: 'Level', data: ['1', 'high'], type: 'STRING' as const },
        { name: 'Final answer', data: ['a', 'b'], type: 'STRING' as const },
      ],
    })
    const flat = await tempDir()
    await writeFile(join(flat, 'metadata.parquet'), Buffer.from(bad))
    const error = await failure(loadGaiaDataset(flat, 'validation'))
    expect(error.message).toContain('metadata.parquet:2: "Level" must be a number')
  })

  it('checks attachments of the selected tasks: present, and inside the dataset folder', async () => {
    const dir = await tempDir()
    const outside = await tempDir()
    await writeFile(join(outside, 'secret.txt'), 'no')
    await symlink(join(outside, 'secret.txt'), join(dir, 'link.txt'))
    await writeFile(join(dir, 'ok.txt'), 'yes')
    await writeFile(
      join(dir, 'metadata.jsonl'),
      [
        row({ task_id: 'ok', file_name: 'ok.txt' }),
        row({ task_id: 'gone', file_name: 'gone.xlsx' }),
        row({ task_id: 'escape', file_name: '../secret.txt' }),
        row({ task_id: 'link', file_name: 'link.txt' }),
      ].join('\n'),
    )
    const dataset = await loadGaiaDataset(dir, 'validation')
    expect(await attachmentPath(dataset, dataset.tasks[0]!)).toBe(join(dir, 'ok.txt'))
    expect((await failure(selectTasks(dataset, { taskIds: ['gone'] }))).message).toMatch(
      /metadata\.jsonl:2: the attachment gone\.xlsx of task gone is not in/,
    )
    expect((await failure(selectTasks(dataset, { taskIds: ['escape'] }))).message).toMatch(
      /metadata\.jsonl:3: file_name/,
    )
    expect((await failure(selectTasks(dataset, { taskIds: ['link'] }))).message).toMatch(/metadata\.jsonl:4: file_name/)
    expect((await failure(selectTasks(dataset, { taskIds: ['nope'] }))).message).toContain('No task nope')
    expect((await selectTasks(dataset, { start: 0, end: 1 })).map((t) => t.taskId)).toEqual(['ok'])
    expect((await failure(selectTasks(dataset, { start: 3, end: 2 }))).message).toContain('selects no task')
  })
})

describe('GAIA prompt and answer extraction', () => {
  it('asks for the GAIA answer template and points at the attachment', () => {
    const prompt = gaiaPrompt('How many rows?', 'uploaded_files/data.xlsx')
    expect(prompt).toContain('FINAL ANSWER: [YOUR FINAL ANSWER]')
    expect(prompt).toContain('Question: How many rows?')
    expect(prompt).toContain('uploaded_files/data.xlsx')
    expect(gaiaPrompt('Q', null)).not.toContain('uploaded_files')
  })

  it('takes what follows the last FINAL ANSWER marker, without markdown or template brackets', () => {
    expect(extractFinalAnswer('The sum is 42.\nFINAL ANSWER: 42')).toBe('42')
    expect(extractFinalAnswer('final answer: maybe 3\nFINAL ANSWER: 4\nThat is all.')).toBe('4')
    expect(extractFinalAnswer('**FINAL ANSWER:** [Paris]')).toBe('Paris')
    expect(extractFinalAnswer('**FINAL ANSWER: `apple, banana`**')).toBe('apple, banana')
    expect(extractFinalAnswer('FINAL ANSWER:\n\n  seagull\n')).toBe('seagull')
    expect(extractFinalAnswer('FINAL ANSWER:')).toBe('')
    expect(extractFinalAnswer('  42 \n')).toBe('42')
    expect(extractFinalAnswer('')).toBeNull()
    expect(extractFinalAnswer(null)).toBeNull()
  })
})

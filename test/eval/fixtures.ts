import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ResultRecord } from '../../src/eval/gaia-records.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { SessionListItem, StoredEvent } from '../../src/store/types.js'

export interface TaskRow {
  task_id: string
  Question: string
  Level: number | string
  'Final answer': string
  file_name?: string
}

/** A GAIA-format dataset as the hub lays it out: `<dir>/2023/validation/metadata.jsonl` plus attachments. */
export async function writeDataset(dir: string, rows: TaskRow[], files: Record<string, string> = {}): Promise<string> {
  const splitDir = join(dir, '2023', 'validation')
  await mkdir(splitDir, { recursive: true })
  await writeFile(join(splitDir, 'metadata.jsonl'), `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`)
  for (const [name, content] of Object.entries(files)) await writeFile(join(splitDir, name), content)
  return dir
}

/** Settings for a child `berth` pointed at a scripted LLM (Chutes preset), quick retries, quiet logs. */
export function evalEnv(root: string, llmUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    BERTH_DATA_DIR: root,
    CHUTES_API_KEY: 'test-key',
    CHUTES_BASE_URL: llmUrl,
    BERTH_LLM_RETRY_DELAY_MS: '1',
    BERTH_LLM_MAX_RETRIES: '1',
    BERTH_LOG_LEVEL: 'warn',
    ...extra,
  }
}

/** Every readable line of a run's results.jsonl. */
export async function readResults(root: string, run: string): Promise<ResultRecord[]> {
  const text = await readFile(join(root, 'eval', run, 'results.jsonl'), 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter((line) => line.startsWith('{') && line.endsWith('}'))
    .map((line) => JSON.parse(line) as ResultRecord)
}

/** The sessions of a run as the store lists them (device gaia-eval, label gaia:<run>), and their events. */
export async function runSessions(
  root: string,
  run: string,
): Promise<{ sessions: SessionListItem[]; events: Map<string, StoredEvent[]> }> {
  const store = await SqliteStore.open({ file: join(root, 'events.db'), readonly: true })
  try {
    const page = await store.listSessions('gaia-eval', { label: `gaia:${run}`, limit: 100 })
    const events = new Map<string, StoredEvent[]>()
    for (const session of page.items) {
      events.set(session.id, (await store.readEvents(session.id, { limit: 10_000 })).events)
    }
    return { sessions: page.items, events }
  } finally {
    await store.close()
  }
}

import { randomUUID } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { eventsOf } from '../agent/fixtures/harness.js'
import { openScriptedRuntime, type ScriptedRuntime } from '../agent/fixtures/scripted-runtime.js'
import { startScriptedAnthropic } from '../helpers/scripted-llm/scripted-anthropic.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { makeDocx, makePdf, makeXlsx, makeZip } from './documents-fixtures.js'

// Real runs (store, workspace, toolset, providers over their SDKs) in which the model reads uploaded documents:
// the scripted model servers check that the tool results they receive hold the documents' contents.

let llm: ScriptedLlm
let runtime: ScriptedRuntime | undefined
afterEach(async () => {
  await runtime?.close()
  runtime = undefined
  await llm?.close()
})

async function sessionWith(files: Record<string, Buffer | string>): Promise<string> {
  const sessionId = randomUUID()
  const dir = await (runtime as ScriptedRuntime).runtime.workspaces.create(sessionId)
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true })
    await writeFile(join(dir, name), bytes)
  }
  return sessionId
}

async function run(sessionId: string, text: string) {
  const runs = (runtime as ScriptedRuntime).runs
  await runs.start({ sessionId, text })
  return runs.wait(sessionId)
}

const call = (id: string, name: string, file_path: string) => ({ id, name, arguments: { file_path } })

const DOCX_TABLE = '| Item | Count |\n| --- | --- |\n| Apples | 12 |'
const SHEETS =
  '## Sheet: Q1\n\n| Region | Sales |\n| --- | --- |\n| North | 10 |\n\n## Sheet: Q2\n\n| Region | Sales |\n| --- | --- |\n| North | 14 |'

describe('documents in a run', () => {
  it('OpenAI-compatible: the tool messages hold the DOCX table, every sheet, and a bomb is an error the run survives', async () => {
    llm = await startScriptedOpenAi()
    runtime = await openScriptedRuntime(await tempDir(), llm.url)
    const zeros = Buffer.alloc(8 * 1024 * 1024)
    const sessionId = await sessionWith({
      'uploaded_files/stock.docx': await makeDocx({
        heading: 'Stock',
        paragraphs: [],
        table: [
          ['Item', 'Count'],
          ['Apples', '12'],
        ],
      }),
      'uploaded_files/sales.xlsx': await makeXlsx({
        Q1: [
          ['Region', 'Sales'],
          ['North', 10],
        ],
        Q2: [
          ['Region', 'Sales'],
          ['North', 14],
        ],
      }),
      'uploaded_files/bomb.zip': await makeZip(
        Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`z${i}`, zeros])),
      ),
    })
    llm.enqueue(
      { toolCalls: [call('call_docx', 'get_text_from_local_file', 'uploaded_files/stock.docx')] },
      { toolCalls: [call('call_xlsx', 'get_text_from_local_file', '/workspace/uploaded_files/sales.xlsx')] },
      { toolCalls: [call('call_zip', 'get_text_from_local_file', 'uploaded_files/bomb.zip')] },
      { text: '12 apples; North sold 10 then 14.' },
    )
    expect(await run(sessionId, 'What do my files say?')).toMatchObject({
      status: 'completed',
      answer: '12 apples; North sold 10 then 14.',
    })
    const toolMessage = (index: number) =>
      (llm.requests[index]?.body.messages as { role: string; content: unknown }[] | undefined)?.at(-1)
    expect(toolMessage(1)).toMatchObject({
      role: 'tool',
      tool_call_id: 'call_docx',
      content: `# Stock\n\n${DOCX_TABLE}`,
    })
    expect(toolMessage(2)).toMatchObject({ role: 'tool', tool_call_id: 'call_xlsx', content: SHEETS })
    expect(toolMessage(3)).toMatchObject({ role: 'tool', tool_call_id: 'call_zip' })
    expect(String(toolMessage(3)?.content)).toMatch(/^Error: uploaded_files\/bomb\.zip unpacks to more than 512\.0 MB/)
    const results = (await eventsOf(runtime.runtime.store, sessionId)).filter((e) => e.type === 'tool_result')
    expect(results.map((e) => e.content.is_error ?? false)).toEqual([false, false, true])
    expect(await runtime.runtime.workspaces.usage(sessionId)).toBeLessThan(1024 * 1024)
  })

  it('Anthropic: the tool_result holds every page of the PDF, and an encrypted one is an error the run survives', async () => {
    llm = await startScriptedAnthropic()
    const root = await tempDir()
    runtime = await openScriptedRuntime(root, null, {
      env: { ANTHROPIC_API_KEY: 'test-key', BERTH_MODEL: 'anthropic:claude-sonnet-4-0', ANTHROPIC_BASE_URL: llm.url },
    })
    const sessionId = await sessionWith({
      'paper.pdf': makePdf([['Abstract: cats sleep a lot.'], ['Results: 16 hours a day.']]),
      'locked.pdf': makePdf([['hidden']], { encrypted: true }),
    })
    llm.enqueue(
      { toolCalls: [call('toolu_pdf', 'pdf_text_extract', 'paper.pdf')] },
      { toolCalls: [call('toolu_locked', 'pdf_text_extract', 'locked.pdf')] },
      { text: 'Cats sleep 16 hours a day.' },
    )
    expect(await run(sessionId, 'Summarise paper.pdf and locked.pdf')).toMatchObject({ status: 'completed' })
    const toolResultOf = (index: number) => {
      const messages = llm.requests[index]?.body.messages as { role: string; content: { type: string }[] }[]
      return messages
        .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
        .findLast((b) => b.type === 'tool_result')
    }
    expect(JSON.stringify(toolResultOf(1))).toContain(
      JSON.stringify(
        'PDF: paper.pdf, 2 pages\n\n--- Page 1 ---\nAbstract: cats sleep a lot.\n\n--- Page 2 ---\nResults: 16 hours a day.',
      ),
    )
    expect(toolResultOf(2)).toMatchObject({ tool_use_id: 'toolu_locked', is_error: true })
    expect(JSON.stringify(toolResultOf(2))).toContain('locked.pdf is an encrypted PDF that needs a password')
  })
})

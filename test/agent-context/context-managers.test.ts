import { createHash, randomUUID } from 'node:crypto'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { TRUNCATED_TOOL_INPUT_MSG, TRUNCATED_TOOL_OUTPUT_MSG } from '../../src/agent/context/context-manager.js'
import { createContextManager } from '../../src/agent/context/create-context-manager.js'
import { memoryFileName, savedPointer } from '../../src/agent/context/file-based-context-manager.js'
import {
  estimateHistoryTokens,
  estimateMessageTokens,
  estimateTokens,
} from '../../src/agent/context/token-estimator.js'
import { turnIndexes } from '../../src/agent/context/turns.js'
import type { LlmMessage } from '../../src/llm/types.js'
import { Workspaces } from '../../src/workspace/workspaces.js'
import { tempDir } from '../helpers/temp-dir.js'

const PAGE = `# A long page\n${'Lorem ipsum dolor sit amet. '.repeat(400)}` // ~11 200 chars, ~2 800 tokens
const LOG = `build log\n${'compiling module...\n'.repeat(400)}` // ~8 000 chars, ~2 000 tokens
const SMALL = 'ok'
const FILE_TEXT = `<html>${'<p>x</p>'.repeat(1000)}</html>` // ~8 000 chars

/** user, then three tool rounds, then a final answer: 8 turns. */
function history(): LlmMessage[] {
  return [
    { role: 'user', content: 'Research berth and build a page' },
    {
      role: 'assistant',
      text: 'Reading the docs.',
      toolCalls: [
        { id: 'c1', name: 'visit_webpage', input: { url: 'https://docs.example.com/guide/intro?x=1' } },
        { id: 'c2', name: 'bash', input: { command: 'npm run build' } },
      ],
    },
    { role: 'tool', toolCallId: 'c1', toolName: 'visit_webpage', content: PAGE },
    { role: 'tool', toolCallId: 'c2', toolName: 'bash', content: LOG },
    {
      role: 'assistant',
      text: 'Writing the page.',
      toolCalls: [
        {
          id: 'c3',
          name: 'str_replace_editor',
          input: { command: 'create', path: 'index.html', file_text: FILE_TEXT },
        },
      ],
    },
    { role: 'tool', toolCallId: 'c3', toolName: 'str_replace_editor', content: SMALL },
    {
      role: 'assistant',
      text: 'Checking.',
      toolCalls: [{ id: 'c4', name: 'bash', input: { command: 'cat index.html' } }],
    },
    { role: 'tool', toolCallId: 'c4', toolName: 'bash', content: FILE_TEXT },
  ]
}

async function workspacesWithSession() {
  const root = path.join(await tempDir('berth-context-'), 'workspace')
  const workspaces = new Workspaces({ root, quotaBytes: null })
  const sessionId = randomUUID()
  const dir = await workspaces.create(sessionId)
  return { workspaces, sessionId, dir }
}

const hash10 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 10)

describe('token estimation and turns', () => {
  it('counts a token per four characters, images as 1000, tool inputs as JSON', () => {
    expect(estimateTokens('')).toBe(0)
    expect(estimateTokens('abcde')).toBe(2)
    expect(
      estimateMessageTokens({
        role: 'user',
        content: 'x'.repeat(40),
        images: [{ mediaType: 'image/png', base64: '' }],
      }),
    ).toBe(1010)
    expect(
      estimateMessageTokens({
        role: 'assistant',
        text: 'abcd',
        toolCalls: [{ id: '1', name: 'bash', input: { command: 'ls' } }],
      }),
    ).toBe(1 + 1 + Math.ceil('{"command":"ls"}'.length / 4))
    expect(
      estimateMessageTokens({
        role: 'tool',
        toolCallId: '1',
        toolName: 'display_image',
        content: 'x'.repeat(8),
        images: [{ mediaType: 'image/png', base64: '' }],
      }),
    ).toBe(1002)
  })

  it('groups the tool results of one step into one turn', () => {
    expect(turnIndexes(history())).toEqual({ turnOf: [0, 1, 2, 2, 3, 4, 5, 6], count: 7 })
  })
})

describe('standard context manager', () => {
  it('changes nothing under budget', async () => {
    const manager = createContextManager({ kind: 'standard', tokenBudget: 1_000_000, storage: null as never })
    const input = history()
    const output = await manager.apply(input, 'any')
    expect(output).toEqual(input)
    expect(output).not.toBe(input)
  })

  it('over budget, drops old outputs and long old inputs, keeping the last three turns whole', async () => {
    const manager = createContextManager({ kind: 'standard', tokenBudget: 1000, storage: null as never })
    const input = history()
    const snapshot = structuredClone(input)
    const output = await manager.apply(input, 'any')
    expect(input).toEqual(snapshot) // not modified in place
    // turns 0-3 are old (7 turns, keep 3)
    expect(output[2]).toMatchObject({ role: 'tool', content: TRUNCATED_TOOL_OUTPUT_MSG })
    expect(output[3]).toMatchObject({ role: 'tool', content: TRUNCATED_TOOL_OUTPUT_MSG })
    const create = output[4] as Extract<LlmMessage, { role: 'assistant' }>
    expect(create.toolCalls[0]?.input).toEqual({
      command: 'create',
      path: 'index.html',
      file_text: TRUNCATED_TOOL_INPUT_MSG,
    })
    expect(create.text).toBe('Writing the page.')
    // the last three turns are untouched
    expect(output.slice(5)).toEqual(input.slice(5))
    expect(output[1]).toEqual(input[1]) // short bash command and url stay
    expect(estimateHistoryTokens(output)).toBeLessThan(estimateHistoryTokens(input) / 2)
  })
})

describe('file-based context manager', () => {
  it('saves large old outputs once to agent_memory and leaves pointers', async () => {
    const { workspaces, sessionId, dir } = await workspacesWithSession()
    const manager = createContextManager({ kind: 'file-based', tokenBudget: 1000, storage: workspaces.storage })
    const input = history()
    const output = await manager.apply(input, sessionId)

    const pageFile = `docs_example_com_guide_intro_x_1_${hash10(PAGE)}.txt`
    const logFile = `bash_${hash10(LOG)}.txt`
    expect((await readdir(path.join(dir, 'agent_memory'))).sort()).toEqual([logFile, pageFile].sort())
    expect(await readFile(path.join(dir, 'agent_memory', pageFile), 'utf8')).toBe(PAGE)
    expect(await readFile(path.join(dir, 'agent_memory', logFile), 'utf8')).toBe(LOG)
    expect(output[2]).toEqual({
      role: 'tool',
      toolCallId: 'c1',
      toolName: 'visit_webpage',
      content: `[Truncated...content saved to agent_memory/${pageFile}. You can view it if needed.]`,
    })
    expect(output[3]).toMatchObject({ content: savedPointer(logFile) })
    expect((output[4] as Extract<LlmMessage, { role: 'assistant' }>).toolCalls[0]?.input).toMatchObject({
      file_text: TRUNCATED_TOOL_INPUT_MSG,
    })
    expect(output.slice(5)).toEqual(input.slice(5)) // the last three turns are untouched, large or not
  })

  it('is idempotent and deterministic: same input, same files, same output', async () => {
    const { workspaces, sessionId, dir } = await workspacesWithSession()
    const manager = createContextManager({ kind: 'file-based', tokenBudget: 1000, storage: workspaces.storage })
    const first = await manager.apply(history(), sessionId)
    const memory = path.join(dir, 'agent_memory')
    const files = (await readdir(memory)).sort()
    const mtimes = await Promise.all(files.map(async (f) => (await stat(path.join(memory, f))).mtimeMs))
    await new Promise((r) => setTimeout(r, 20))
    const second = await manager.apply(history(), sessionId)
    expect(second).toEqual(first)
    expect((await readdir(memory)).sort()).toEqual(files)
    expect(await Promise.all(files.map(async (f) => (await stat(path.join(memory, f))).mtimeMs))).toEqual(mtimes)
    // Its own output is a fixed point.
    expect(await manager.apply(first, sessionId)).toEqual(first)
    // Another session with the same history gets the same names.
    const other = await workspacesWithSession()
    const elsewhere = createContextManager({ kind: 'file-based', tokenBudget: 1000, storage: other.workspaces.storage })
    expect(await elsewhere.apply(history(), other.sessionId)).toEqual(first)
  })

  it('changes nothing under budget and leaves small old outputs alone', async () => {
    const { workspaces, sessionId, dir } = await workspacesWithSession()
    const input = history()
    const roomy = createContextManager({ kind: 'file-based', tokenBudget: 1_000_000, storage: workspaces.storage })
    expect(await roomy.apply(input, sessionId)).toEqual(input)
    expect(await readdir(path.join(dir, 'agent_memory'))).toEqual([])

    const small: LlmMessage[] = [
      { role: 'user', content: 'x'.repeat(8000) },
      { role: 'assistant', text: '', toolCalls: [{ id: 'a', name: 'bash', input: { command: 'ls' } }] },
      { role: 'tool', toolCallId: 'a', toolName: 'bash', content: 'file.txt' },
      { role: 'assistant', text: 'done', toolCalls: [] },
      { role: 'user', content: 'thanks' },
      { role: 'assistant', text: 'bye', toolCalls: [] },
    ]
    const tight = createContextManager({ kind: 'file-based', tokenBudget: 100, storage: workspaces.storage })
    expect(await tight.apply(small, sessionId)).toEqual(small)
  })

  it('falls back to plain truncation when the memory file cannot be written', async () => {
    const root = path.join(await tempDir('berth-context-'), 'workspace')
    const workspaces = new Workspaces({ root, quotaBytes: 100 })
    const sessionId = randomUUID()
    await workspaces.create(sessionId)
    const manager = createContextManager({ kind: 'file-based', tokenBudget: 1000, storage: workspaces.storage })
    const output = await manager.apply(history(), sessionId)
    expect(output[2]).toMatchObject({ content: TRUNCATED_TOOL_OUTPUT_MSG })
    expect(await readdir(path.join(root, sessionId, 'agent_memory'))).toEqual([])
  })

  it('names memory files after the page for visit_webpage and after the tool otherwise', () => {
    const call = (url: unknown) => ({ id: 'c', name: 'visit_webpage', input: { url } })
    const h = hash10('x')
    expect(memoryFileName('visit_webpage', 'x', call('https://en.wikipedia.org/wiki/Säntis'))).toBe(
      `en_wikipedia_org_wiki_S_ntis_${h}.txt`,
    )
    expect(memoryFileName('visit_webpage', 'x', call('http://a.b'))).toBe(`a_b_${h}.txt`)
    expect(memoryFileName('visit_webpage', 'x', call(42))).toBe(`visit_webpage_${h}.txt`)
    expect(memoryFileName('visit_webpage', 'x')).toBe(`visit_webpage_${h}.txt`)
    expect(memoryFileName('../../evil', 'x')).toBe(`evil_${h}.txt`)
  })
})

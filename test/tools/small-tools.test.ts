import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createCompleteTool } from '../../src/tools/complete.js'
import { createListFilesTool } from '../../src/tools/list-files.js'
import { createMessageUserTool } from '../../src/tools/message-user.js'
import { runTool } from '../../src/tools/run-tool.js'
import { createSequentialThinkingTool } from '../../src/tools/sequential-thinking.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'

let context: FakeToolContext
afterEach(async () => {
  await context?.resources.dispose()
})

describe('sequential_thinking', () => {
  it('answers with the status JSON, counting thoughts and branches per session', async () => {
    context = await makeToolContext()
    const think = createSequentialThinkingTool()
    const first = await runTool(
      think,
      { thought: 'Plan the site', nextThoughtNeeded: true, thoughtNumber: 1, totalThoughts: 2 },
      context,
    )
    expect(JSON.parse(first.output)).toEqual({
      thoughtNumber: 1,
      totalThoughts: 2,
      nextThoughtNeeded: true,
      branches: [],
      thoughtHistoryLength: 1,
    })
    const second = await runTool(
      think,
      {
        thought: 'Try another layout',
        nextThoughtNeeded: 'false',
        thoughtNumber: '3',
        totalThoughts: 2,
        branchFromThought: 1,
        branchId: 'alt',
      },
      context,
    )
    expect(JSON.parse(second.output)).toEqual({
      thoughtNumber: 3,
      totalThoughts: 3,
      nextThoughtNeeded: false,
      branches: ['alt'],
      thoughtHistoryLength: 2,
    })
    const badRevision = await runTool(
      think,
      { thought: 'x', nextThoughtNeeded: true, thoughtNumber: 2, totalThoughts: 2, isRevision: true },
      context,
    )
    expect(badRevision.isError).toBe(true)
    expect(JSON.parse(badRevision.output)).toEqual({
      error: 'revisesThought must be provided and > 0 when isRevision is True',
      status: 'failed',
    })
    const missing = await runTool(think, { thought: 'x' }, context)
    expect(missing.output).toContain('- nextThoughtNeeded: missing (required)')
  })
})

describe('message_user and complete', () => {
  it('acknowledges a message and ends the run with the answer', async () => {
    context = await makeToolContext()
    expect(await runTool(createMessageUserTool(), { text: 'Halfway there' }, context)).toEqual({
      output: 'Sent message to user',
    })
    expect(await runTool(createCompleteTool(), { answer: 'All done: https://x' }, context)).toEqual({
      output: 'Task completed',
      finalAnswer: 'All done: https://x',
    })
    const empty = await runTool(createCompleteTool(), { answer: '' }, context)
    expect(empty.isError).toBe(true)
    expect(empty.finalAnswer).toBeUndefined()
  })
})

describe('list_files', () => {
  it('lists the workspace tree with sizes, skipping hidden entries, to the asked depth', async () => {
    context = await makeToolContext()
    await mkdir(path.join(context.workspaceDir, 'site/css'), { recursive: true })
    await writeFile(path.join(context.workspaceDir, 'site/index.html'), 'x'.repeat(2048))
    await writeFile(path.join(context.workspaceDir, 'site/css/a.css'), 'abc')
    await writeFile(path.join(context.workspaceDir, '.hidden'), 'x')
    const list = createListFilesTool()
    expect((await runTool(list, {}, context)).output).toBe(
      './\n  agent_memory/\n  site/\n    css/\n    index.html (2.0 KB)\n  uploaded_files/',
    )
    expect((await runTool(list, { path: 'site', depth: 3 }, context)).output).toBe(
      'site/\n  css/\n    a.css (3 B)\n  index.html (2.0 KB)',
    )
    expect((await runTool(list, { path: '../' }, context)).isError).toBe(true)
  })
})

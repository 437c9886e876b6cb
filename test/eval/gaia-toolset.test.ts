import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BROWSER_TOOLS } from '../../src/agent/prompt/sections.js'
import { createToolset, GAIA_TOOL_NAMES, selectToolset } from '../../src/tools/toolset.js'
import { runBerth } from '../helpers/berth-process.js'
import { PNG_1PX } from '../helpers/images.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { evalEnv, readResults, writeDataset } from './fixtures.js'

let llm: ScriptedLlm | undefined
afterEach(async () => {
  await llm?.close()
  llm = undefined
})

/** The reference GAIA runner's tools other than the browser ones (run_gaia.py), in any order. */
const GAIA_WITHOUT_BROWSER = [
  'bash',
  'complete',
  'display_image',
  'get_text_from_local_file',
  'sequential_thinking',
  'str_replace_editor',
  'visit_webpage',
  'web_search',
  'youtube_video_transcript',
]

type ChatMessage = { role: string; content?: unknown }
type ToolSpec = { function?: { name?: string } }

describe('the GAIA toolset', () => {
  it('is the reference runner set taken out of the full toolset, the same tool objects', () => {
    const all = createToolset({ bashTimeout: 10 })
    const gaia = selectToolset(all, 'gaia')
    const names = gaia.map((tool) => tool.name)
    expect(names.filter((name) => !name.startsWith('browser_')).sort()).toEqual(GAIA_WITHOUT_BROWSER)
    // The browser tools come along where the full set has them, except the tab ones the reference leaves out.
    const browser = all.map((tool) => tool.name).filter((name) => name.startsWith('browser_'))
    expect(names.filter((name) => name.startsWith('browser_'))).toEqual(
      browser.filter((name) => name !== 'browser_switch_tab' && name !== 'browser_open_new_tab'),
    )
    for (const tool of gaia) expect(all).toContain(tool)
    expect(selectToolset(all, 'default')).toEqual(all)
    // Every name in the list is a tool berth has, so a renamed tool cannot drop out of GAIA unnoticed.
    const known = new Set([...all.map((tool) => tool.name), ...BROWSER_TOOLS])
    expect(GAIA_TOOL_NAMES.filter((name) => !known.has(name))).toEqual([])
  })

  it('is what `berth eval gaia` offers the model, whose prompt names only those tools, and an image attachment arrives as an image', async () => {
    llm = await startScriptedOpenAi()
    const root = await tempDir()
    const data = await writeDataset(join(root, 'gaia'), [
      { task_id: 'pic', Question: 'What colour is the dot?', Level: 1, 'Final answer': 'red', file_name: 'dot.png' },
    ])
    await writeFile(join(data, '2023', 'validation', 'dot.png'), PNG_1PX)
    llm.enqueue({ text: 'FINAL ANSWER: red' })
    // No chromium at this path: the browser tools are not offered, so the list below is exact.
    const env = evalEnv(root, llm.url, { BERTH_BROWSER_PATH: join(root, 'no-chromium') })
    const run = await runBerth(['eval', 'gaia', '--data', data, '--run-name', 'pic'], { cwd: root, env })
    expect(run.code, run.stderr).toBe(0)
    expect((await readResults(root, 'pic')).map((r) => [r.task_id, r.status, r.correct])).toEqual([
      ['pic', 'completed', true],
    ])

    const body = llm.requests[0]?.body as { messages: ChatMessage[]; tools?: ToolSpec[] }
    const offered = (body.tools ?? []).map((tool) => tool.function?.name ?? '')
    expect([...offered].sort()).toEqual(GAIA_WITHOUT_BROWSER)

    // The attachment is both named in the text and sent as the picture itself.
    const user = body.messages.filter((m) => m.role === 'user')
    expect(user).toHaveLength(1)
    const parts = user[0]?.content as { type: string; text?: string; image_url?: { url: string } }[]
    expect(parts.find((part) => part.type === 'text')?.text).toContain('uploaded_files/dot.png')
    expect(parts.filter((part) => part.type === 'image_url')).toEqual([
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_1PX.toString('base64')}` } },
    ])

    const system = String(body.messages.find((m) => m.role === 'system')?.content ?? '')
    const named = new Set([...system.matchAll(/`([^`]+)`/g)].map((match) => match[1]))
    expect([...named].sort()).toEqual(GAIA_WITHOUT_BROWSER)
    expect(system).not.toContain('static_deploy')
    expect(system).not.toContain('message_user')
  })
})

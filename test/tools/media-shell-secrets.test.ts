import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.js'
import { runTool } from '../../src/tools/run-tool.js'
import { createToolset } from '../../src/tools/toolset.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'

const SET = {
  BERTH_IMAGE_API_KEY: 'image-key-5f3a9c21',
  BERTH_TRANSCRIPTION_API_KEY: 'stt-key-0b7d44e2',
  // The same key under a name that says nothing: only its value gives it away.
  PLAIN_LOOKING_NAME: 'image-key-5f3a9c21',
}

let context: FakeToolContext | undefined
afterEach(async () => {
  await context?.resources.dispose()
  for (const name of Object.keys(SET)) delete process.env[name]
})

describe('media keys and the agent shell', () => {
  it('the shell of a toolset with media keys sees neither their variables nor their values', async () => {
    Object.assign(process.env, SET)
    const config = loadConfig({ env: process.env, envFile: false })
    const bash = createToolset(config).find((tool) => tool.name === 'bash')
    if (bash === undefined) throw new Error('no bash tool')
    context = await makeToolContext()
    const result = await runTool(bash, { command: 'env; echo done' }, context)
    expect(result.output).toContain('done')
    for (const [name, value] of Object.entries(SET)) {
      expect(result.output).not.toContain(name)
      expect(result.output).not.toContain(value)
    }
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { BerthError } from '../../src/core/errors.js'
import { capOutput, HeadTailBuffer } from '../../src/tools/output-cap.js'
import { intParam } from '../../src/tools/params.js'
import { runTool, runToolCall, unknownToolResult } from '../../src/tools/run-tool.js'
import { defineTool } from '../../src/tools/tool.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'

const echo = defineTool({
  name: 'echo',
  description: 'Echo text.',
  parameters: z.object({
    text: z.string().describe('What to echo.'),
    times: intParam('How often.').optional(),
  }),
  async execute(input) {
    return { output: input.text.repeat(input.times ?? 1) }
  },
})

const failing = (error: unknown) =>
  defineTool({
    name: 'failing',
    description: 'Always fails.',
    parameters: z.object({}),
    async execute() {
      throw error
    },
  })

let context: FakeToolContext
afterEach(async () => {
  await context?.resources.dispose()
})

describe('runTool', () => {
  it('runs a tool with valid input, forgiving numbers sent as strings and arguments sent as JSON text', async () => {
    context = await makeToolContext()
    expect(await runTool(echo, { text: 'ab', times: '3' }, context)).toEqual({ output: 'ababab' })
    expect(await runTool(echo, '{"text":"x","times":2}', context)).toEqual({ output: 'xx' })
  })

  it('turns invalid input into an error result that says what to fix, without running the tool', async () => {
    context = await makeToolContext()
    const missing = await runTool(echo, { times: 2 }, context)
    expect(missing.isError).toBe(true)
    expect(missing.output).toMatch(/^Invalid arguments for tool `echo`; it was not run/)
    expect(missing.output).toContain('- text: missing (required)')
    expect(missing.output).toContain('- text (string, required): What to echo.')
    expect(missing.output).toContain('- times (integer, optional): How often.')
    const wrongType = await runTool(echo, { text: 5 }, context)
    expect(wrongType.output).toMatch(/- text: Invalid input: expected string, received number/)
    const notAnObject = await runTool(echo, 'ls -la', context)
    expect(notAnObject.isError).toBe(true)
    expect(notAnObject.output).toMatch(/\(arguments\): Invalid input: expected object/)
  })

  it('catches exceptions: BerthError messages go to the model as they are, others are named and logged', async () => {
    context = await makeToolContext()
    const refused = await runTool(
      failing(new BerthError('PATH_OUTSIDE_WORKSPACE', 'The path /etc/passwd is outside the workspace.')),
      {},
      context,
    )
    expect(refused).toEqual({ output: 'Error: The path /etc/passwd is outside the workspace.', isError: true })
    const crashed = await runTool(failing(new TypeError('x is undefined')), {}, context)
    expect(crashed).toEqual({ output: 'Error: tool failing failed: x is undefined', isError: true })
  })

  it('caps output, keeping head and tail around a marker', async () => {
    context = await makeToolContext()
    const text = `HEAD${'m'.repeat(100_000)}TAIL`
    const result = await runTool(echo, { text }, context)
    expect(result.output.length).toBeLessThanOrEqual(30_000)
    expect(result.output.startsWith('HEAD')).toBe(true)
    expect(result.output.endsWith('TAIL')).toBe(true)
    expect(result.output).toMatch(/\[\.\.\. [\d,]+ characters omitted \(100,008 in all\) \.\.\.\]/)
    const small = await runTool(echo, { text }, context, { maxOutputChars: 200 })
    expect(small.output.length).toBeLessThanOrEqual(200)
  })

  it('does not start a tool once the run is cancelled', async () => {
    context = await makeToolContext()
    context.controller.abort()
    const result = await runTool(echo, { text: 'x' }, context)
    expect(result.isError).toBe(true)
    expect(result.output).toMatch(/cancelled/)
  })
})

describe('runToolCall', () => {
  it('answers an unknown tool with the list of available tools', async () => {
    context = await makeToolContext()
    const result = await runToolCall([echo, failing(null)], { name: 'python', input: {} }, context)
    expect(result).toEqual(unknownToolResult('python', [echo, failing(null)]))
    expect(result.output).toBe(
      'Unknown tool `python`. Available tools: echo, failing. Call one of these by its exact name.',
    )
    expect(result.isError).toBe(true)
  })

  it('answers arguments the LLM layer could not parse with the parameters to send', async () => {
    context = await makeToolContext()
    const result = await runToolCall(
      [echo],
      { name: 'echo', input: '{"text": "a', inputError: 'Unexpected end of JSON' },
      context,
    )
    expect(result.isError).toBe(true)
    expect(result.output).toMatch(/could not be read \(Unexpected end of JSON\)/)
    expect(result.output).toContain('- text (string, required)')
  })
})

describe('capOutput and HeadTailBuffer', () => {
  it('leaves short text alone and never exceeds the limit', () => {
    expect(capOutput('short', 10)).toBe('short')
    for (const length of [101, 1000, 123_456]) {
      const capped = capOutput('x'.repeat(length), 100)
      expect(capped.length).toBeLessThanOrEqual(100)
      expect(capped).toContain(`(${length.toLocaleString('en-US')} in all)`)
    }
  })

  it('keeps the first and last characters of a stream in bounded memory', () => {
    const buffer = new HeadTailBuffer(5, 5)
    for (let i = 0; i < 10_000; i++) buffer.push(`${i % 10}`)
    expect(buffer.totalChars).toBe(10_000)
    expect(buffer.omittedChars).toBe(9_990)
    expect(buffer.text()).toBe('01234\n\n[... 9,990 characters omitted (10,000 in all) ...]\n\n56789')
    const whole = new HeadTailBuffer(5, 5)
    whole.push('abcdefgh')
    expect(whole.text()).toBe('abcdefgh')
  })
})

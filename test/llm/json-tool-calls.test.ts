import { describe, expect, it } from 'vitest'
import { parseJsonToolCalls } from '../../src/llm/json-tool-calls.js'
import { parseLenientJson, scanJson } from '../../src/llm/lenient-json.js'

const fence = (json: string): string => `\`\`\`json\n${json}\n\`\`\``

describe('parseJsonToolCalls', () => {
  it('finds a call in a fenced json block and keeps the text around it', () => {
    const content = `I will list the files.\n${fence('{"tool_call": {"id": "c1", "name": "bash", "arguments": {"command": "ls"}}}')}\nThen I read them.`
    const result = parseJsonToolCalls(content)
    expect(result.calls).toEqual([{ id: 'c1', name: 'bash', input: { command: 'ls' } }])
    expect(result.text).toBe('I will list the files.\n\nThen I read them.')
  })

  it('finds an inline call in running text', () => {
    const result = parseJsonToolCalls('Checking: {"tool_call": {"name": "list_files", "arguments": {"path": "."}}} ok')
    expect(result.calls).toEqual([{ name: 'list_files', input: { path: '.' } }])
    expect(result.text).toBe('Checking: ok')
  })

  it('repairs a call truncated before its closing braces', () => {
    const result = parseJsonToolCalls('{"tool_call": {"name": "bash", "arguments": {"command": "echo hi"')
    expect(result.calls).toEqual([{ name: 'bash', input: { command: 'echo hi' } }])
    expect(result.text).toBe('')
  })

  it('repairs a fenced call cut off inside a string, with no closing fence', () => {
    const result = parseJsonToolCalls(
      'Writing it now\n```json\n{"tool_call": {"name": "str_replace_editor", "arguments": {"command": "create", "path": "a.txt", "file_text": "hel',
    )
    expect(result.calls).toEqual([
      { name: 'str_replace_editor', input: { command: 'create', path: 'a.txt', file_text: 'hel' } },
    ])
    expect(result.text).toBe('Writing it now')
  })

  it('drops a half-written key when repairing', () => {
    const result = parseJsonToolCalls('{"tool_call": {"name": "bash", "arguments": {"command": "ls", "timeo')
    expect(result.calls).toEqual([{ name: 'bash', input: { command: 'ls' } }])
  })

  it('strips trailing commas', () => {
    const result = parseJsonToolCalls(fence('{"tool_call": {"name": "bash", "arguments": {"command": "ls",},},}'))
    expect(result.calls).toEqual([{ name: 'bash', input: { command: 'ls' } }])
  })

  it('returns several calls in order, from fences and inline text', () => {
    const content = [
      'First:',
      fence('{"tool_call": {"id": "a", "name": "bash", "arguments": {"command": "pwd"}}}'),
      'Second: {"tool_call": {"id": "b", "name": "bash", "arguments": {"command": "ls"}}}',
      fence('{"tool_call": {"id": "c", "name": "complete", "arguments": {"answer": "done"}}}'),
    ].join('\n')
    const result = parseJsonToolCalls(content)
    expect(result.calls.map((call) => call.id)).toEqual(['a', 'b', 'c'])
    expect(result.text).toBe('First:\n\nSecond:')
  })

  it('reads two objects in one fence and a tool_calls array', () => {
    const two = parseJsonToolCalls(
      fence('{"tool_call": {"name": "a", "arguments": {}}}\n{"tool_call": {"name": "b", "arguments": {}}}'),
    )
    expect(two.calls.map((call) => call.name)).toEqual(['a', 'b'])
    const list = parseJsonToolCalls('{"tool_calls": [{"name": "a", "arguments": {"x": 1}}, {"name": "b"}]}')
    expect(list.calls).toEqual([
      { name: 'a', input: { x: 1 } },
      { name: 'b', input: {} },
    ])
  })

  it('never throws away a plain answer', () => {
    const answer = 'The capital of France is Paris.\n\nIt has about 2.1 million inhabitants.'
    expect(parseJsonToolCalls(answer)).toEqual({ text: answer, calls: [] })
  })

  it('keeps a plain answer that merely mentions JSON and braces', () => {
    const answer = 'Use {"name": "x"} in config, and call f() { return 1 } later. The word tool_call is fine.'
    expect(parseJsonToolCalls(answer, { toolNames: ['bash'] })).toEqual({ text: answer, calls: [] })
    const code = 'Here is a config:\n```json\n{"name": "site", "version": 2}\n```'
    expect(parseJsonToolCalls(code, { toolNames: ['bash'] })).toEqual({ text: code, calls: [] })
  })

  it('is not fooled by braces and quotes inside strings', () => {
    const json = '{"tool_call": {"name": "bash", "arguments": {"command": "echo \\"}{\\" && awk \'{print $1}\'"}}}'
    const result = parseJsonToolCalls(`Run: ${json} after`)
    expect(result.calls).toEqual([{ name: 'bash', input: { command: 'echo "}{" && awk \'{print $1}\'' } }])
    expect(result.text).toBe('Run: after')
  })

  it('handles null, undefined and empty content', () => {
    expect(parseJsonToolCalls(null)).toEqual({ text: '', calls: [] })
    expect(parseJsonToolCalls(undefined)).toEqual({ text: '', calls: [] })
    expect(parseJsonToolCalls('')).toEqual({ text: '', calls: [] })
  })

  it('parses arguments sent as a JSON string, and reports a broken one', () => {
    const ok = parseJsonToolCalls('{"tool_call": {"name": "bash", "arguments": "{\\"command\\": \\"ls\\"}"}}')
    expect(ok.calls).toEqual([{ name: 'bash', input: { command: 'ls' } }])
    const bad = parseJsonToolCalls('{"tool_call": {"name": "bash", "arguments": "{\\"command\\": "}}')
    expect(bad.calls[0]?.name).toBe('bash')
    expect(bad.calls[0]?.input).toBe('{"command": ')
    expect(bad.calls[0]?.inputError).toMatch(/not valid JSON/)
  })

  it('reports a call that is beyond repair instead of dropping it', () => {
    const result = parseJsonToolCalls(fence('{"tool_call": {"name": "bash", "arguments": {"command": ls -la}}}'))
    expect(result.calls).toHaveLength(1)
    expect(result.calls[0]?.name).toBe('bash')
    expect(result.calls[0]?.inputError).toMatch(/not valid JSON/)
    expect(result.text).toBe('')
  })

  it('accepts bare {name, arguments} in a json fence or tool_call tag, only for known tools inline', () => {
    const fenced = parseJsonToolCalls(fence('{"name": "bash", "arguments": {"command": "ls"}}'))
    expect(fenced.calls).toEqual([{ name: 'bash', input: { command: 'ls' } }])
    const tagged = parseJsonToolCalls('<tool_call>\n{"name": "bash", "arguments": {"command": "ls"}}\n</tool_call>')
    expect(tagged.calls).toEqual([{ name: 'bash', input: { command: 'ls' } }])
    const inlineKnown = parseJsonToolCalls('go {"name": "bash", "arguments": {"command": "ls"}}', {
      toolNames: ['bash'],
    })
    expect(inlineKnown.calls).toHaveLength(1)
    const inlineUnknown = parseJsonToolCalls('go {"name": "rm", "arguments": {}}', { toolNames: ['bash'] })
    expect(inlineUnknown.calls).toHaveLength(0)
    const python = '```python\nx = {"name": "bash", "arguments": {}}\n```'
    expect(parseJsonToolCalls(python).calls).toHaveLength(0)
  })

  it('marks a call without a name as an error', () => {
    const result = parseJsonToolCalls('{"tool_call": {"arguments": {"a": 1}}}')
    expect(result.calls).toEqual([{ name: '', input: { a: 1 }, inputError: 'The tool call has no "name".' }])
  })
})

describe('lenient JSON', () => {
  it('finds the end of an object, ignoring brackets in strings', () => {
    expect(scanJson('x {"a": "}]"} y', 2)).toEqual({ end: 13, complete: true })
    expect(scanJson('{"a": [1, {"b": 2}', 0)).toEqual({ end: 18, complete: false })
  })

  it('parses strict JSON without repair and repairs broken JSON', () => {
    expect(parseLenientJson('{"a": 1}')).toEqual({ ok: true, value: { a: 1 }, repaired: false })
    expect(parseLenientJson('{"a": [1, 2,], "b": {"c": "d')).toEqual({
      ok: true,
      value: { a: [1, 2], b: { c: 'd' } },
      repaired: true,
    })
    expect(parseLenientJson('{"a": ')).toEqual({ ok: true, value: {}, repaired: true })
    expect(parseLenientJson('{"a": 1, "b"')).toEqual({ ok: true, value: { a: 1 }, repaired: true })
    expect(parseLenientJson('{"a": [1, 2.')).toEqual({ ok: true, value: { a: [1, 2] }, repaired: true })
    expect(parseLenientJson('{"a": "x\\')).toEqual({ ok: true, value: { a: 'x' }, repaired: true })
    expect(parseLenientJson('{"a": tru')).toEqual({ ok: true, value: { a: true }, repaired: true })
    expect(parseLenientJson('{"a": ls}').ok).toBe(false)
    expect(parseLenientJson('not json at all').ok).toBe(false)
  })
})

import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { pythonJsonDumps } from '../../src/core/python-json.js'

/** Values that survive a JSON round trip unchanged in both languages (no floats with a zero fraction). */
const SAMPLES: unknown[] = [
  { type: 'user_message', content: { text: 'Build a café site 🚀', files: [] } },
  { text: '\u00e9 \u65e5\u672c\u8a9e \u007f \u2028 \u0001 \b\f\n\r\t "quoted" \\ slash / :, {}[]' },
  { nested: [[], {}, [1, -2, 2.5, 1e21, null, true, false]], '': '', 'key: "with", marks': 'x' },
  ['a', { b: { c: { d: ['e'] } } }],
  'just a string',
  // Every printable ASCII character but the two JSON escapes: written as it is (the unescaped fast path).
  ' !#$%&()*+,-./0189:;<=>?@AZ[]^_`az{|}~',
  '~\u007f',
  42,
  null,
]

describe('pythonJsonDumps', () => {
  it("writes exactly the bytes of Python's json.dumps", () => {
    const script = 'import json,sys\nfor line in sys.stdin.read().split("\\n"): print(json.dumps(json.loads(line)))'
    const input = SAMPLES.map((value) => JSON.stringify(value)).join('\n')
    const python = execFileSync('python3', ['-c', script], {
      input,
      encoding: 'utf8',
      env: { ...process.env, PYTHONIOENCODING: 'utf-8' },
    })
      .trimEnd()
      .split('\n')
    expect(SAMPLES.map((value) => pythonJsonDumps(value))).toEqual(python)
  })

  it('drops what JSON drops and refuses what it cannot write', () => {
    expect(pythonJsonDumps({ a: undefined, b: [undefined, () => 1], c: Number.NaN })).toBe(
      '{"b": [null, null], "c": null}',
    )
    expect(() => pythonJsonDumps(undefined)).toThrow(TypeError)
  })
})

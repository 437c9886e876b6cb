import { parseLenientJson, scanJson } from './lenient-json.js'
import { parseToolInput } from './tool-call-assembler.js'

export interface ParsedToolCall {
  /** The id the model gave, if any. */
  id?: string
  name: string
  input: unknown
  inputError?: string
}

export interface JsonToolCallParse {
  /** The content with the tool calls taken out; the whole content when it holds none. */
  text: string
  calls: ParsedToolCall[]
}

export interface ParseOptions {
  /**
   * Known tool names. A bare `{"name", "arguments"}` object outside a fence
   * counts as a call only when its name is one of these.
   */
  toolNames?: readonly string[]
}

interface Region {
  start: number
  end: number
  calls: ParsedToolCall[]
}

const FENCE = /```[ \t]*([\w-]*)[^\n`]*\n?([\s\S]*?)(?:```|$)/g
const TAG = /<tool_call>([\s\S]*?)(?:<\/tool_call>|$)/g
const JSON_FENCES = new Set(['', 'json', 'jsonc', 'json5', 'tool_call', 'tool-call', 'tool_code'])
const INLINE_START = /^\{\s*"(tool_call|tool_calls|name)"\s*:/

/**
 * Find the tool calls a model wrote as JSON in its text (JSON tool-call
 * mode): ```json fences, `<tool_call>` tags, or inline
 * `{"tool_call": {"id", "name", "arguments"}}` objects, several per answer,
 * truncated or with trailing commas. Text around the calls is kept, and text
 * without calls comes back whole: a plain answer is never thrown away.
 *
 * @example
 *   parseJsonToolCalls('Let me look.\n```json\n{"tool_call": {"name": "bash", "arguments": {"command": "ls"}}}\n```')
 *   // { text: 'Let me look.', calls: [{ name: 'bash', input: { command: 'ls' } }] }
 */
export function parseJsonToolCalls(content: string | null | undefined, options: ParseOptions = {}): JsonToolCallParse {
  if (!content) return { text: '', calls: [] }
  const regions: Region[] = []
  for (const pattern of [FENCE, TAG]) {
    for (const match of content.matchAll(pattern)) {
      const start = match.index
      if (overlaps(regions, start)) continue
      const body = (pattern === FENCE ? match[2] : match[1]) ?? ''
      // A bare {"name", "arguments"} counts in a JSON fence or a tag, not in a fence of Python or shell.
      const allowBare = pattern === TAG || JSON_FENCES.has((match[1] ?? '').toLowerCase())
      const calls = callsInBlock(body, allowBare, options.toolNames)
      if (calls.length > 0) regions.push({ start, end: start + match[0].length, calls })
    }
  }
  regions.push(...inlineCalls(content, regions, options))
  if (regions.length === 0) return { text: content, calls: [] }

  regions.sort((a, b) => a.start - b.start)
  let text = ''
  let at = 0
  for (const region of regions) {
    text = join(text, content.slice(at, region.start))
    at = region.end
  }
  text = join(text, content.slice(at))
  return { text: tidy(text), calls: regions.flatMap((region) => region.calls) }
}

/** A fenced or tagged block: every JSON value in it. */
function callsInBlock(body: string, allowBare: boolean, toolNames: readonly string[] | undefined): ParsedToolCall[] {
  const calls: ParsedToolCall[] = []
  let i = 0
  while (i < body.length) {
    const open = nextOpening(body, i)
    if (open === -1) break
    const span = scanJson(body, open)
    const raw = body.slice(open, span.end)
    calls.push(...callsFromRaw(raw, { allowBare, toolNames }))
    i = span.end > open ? span.end : open + 1
  }
  return calls
}

/** `{"tool_call": …}` objects written in running text, outside any fence or tag that held calls. */
function inlineCalls(content: string, taken: readonly Region[], options: ParseOptions): Region[] {
  const regions: Region[] = []
  let i = 0
  while (i < content.length) {
    const open = content.indexOf('{', i)
    if (open === -1) break
    const inside = taken.find((region) => open >= region.start && open < region.end)
    if (inside) {
      i = inside.end
      continue
    }
    const head = INLINE_START.exec(content.slice(open, open + 200))
    const bareAllowed = head?.[1] !== 'name' || (options.toolNames !== undefined && options.toolNames.length > 0)
    if (!head || !bareAllowed) {
      i = open + 1
      continue
    }
    const span = scanJson(content, open)
    const calls = callsFromRaw(content.slice(open, span.end), { allowBare: true, toolNames: options.toolNames })
    if (calls.length > 0) {
      regions.push({ start: open, end: span.end, calls })
      i = span.end
    } else i = open + 1
  }
  return regions
}

function callsFromRaw(
  raw: string,
  options: { allowBare: boolean; toolNames: readonly string[] | undefined },
): ParsedToolCall[] {
  const parsed = parseLenientJson(raw)
  if (parsed.ok) return callsFromValue(parsed.value, options)
  // Beyond repair, but plainly meant as a call: report it so the model can try again.
  if (!/"tool_calls?"\s*:/.test(raw)) return []
  const name = /"name"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(raw)?.[1]
  if (name === undefined) return []
  return [{ name, input: raw, inputError: `The tool call is not valid JSON: ${parsed.error}` }]
}

function callsFromValue(
  value: unknown,
  options: { allowBare: boolean; toolNames: readonly string[] | undefined },
): ParsedToolCall[] {
  if (Array.isArray(value)) return value.flatMap((item) => callsFromValue(item, options))
  if (!isObject(value)) return []
  if (isObject(value.tool_call)) return [toCall(value.tool_call)]
  if (Array.isArray(value.tool_calls)) return value.tool_calls.filter(isObject).map(toCall)
  const bare =
    options.allowBare &&
    typeof value.name === 'string' &&
    ('arguments' in value || 'input' in value || 'parameters' in value) &&
    (options.toolNames === undefined || options.toolNames.includes(value.name))
  return bare ? [toCall(value)] : []
}

function toCall(call: Record<string, unknown>): ParsedToolCall {
  const args = call.arguments ?? call.input ?? call.parameters ?? {}
  const id = typeof call.id === 'string' && call.id.length > 0 ? { id: call.id } : {}
  if (typeof call.name !== 'string' || call.name.length === 0) {
    return { ...id, name: '', input: args, inputError: 'The tool call has no "name".' }
  }
  // Some models send the arguments as a JSON string, as the native API does.
  const input = typeof args === 'string' ? parseToolInput(args) : { input: args }
  return { ...id, name: call.name, ...input }
}

function nextOpening(text: string, from: number): number {
  const brace = text.indexOf('{', from)
  const bracket = text.indexOf('[', from)
  if (brace === -1) return bracket
  if (bracket === -1) return brace
  return Math.min(brace, bracket)
}

function overlaps(regions: readonly Region[], index: number): boolean {
  return regions.some((region) => index >= region.start && index < region.end)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Where a call was cut out, keep one space, not the space on both sides of it. */
function join(left: string, right: string): string {
  return /[ \t]$/.test(left) ? left + right.replace(/^[ \t]+/, '') : left + right
}

function tidy(text: string): string {
  return text
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}

/**
 * JSON text exactly as Python's `json.dumps` writes it with default options:
 * `", "` and `": "` separators and `ensure_ascii` (every non-ASCII character
 * as `\uXXXX`, astral ones as surrogate pairs). The reference system stores
 * `event_payload` this way, so berth writes the same bytes and an ii-agent
 * reader sees nothing unusual. Parsing needs nothing special: it is JSON.
 *
 * @example pythonJsonDumps({ text: 'é' }) === '{"text": "\\u00e9"}'
 */
export function pythonJsonDumps(value: unknown): string {
  const out = serialize(value)
  if (out === undefined) throw new TypeError('value is not JSON-serialisable')
  return out
}

const NON_ASCII = /[\u007f-\uffff]/g
/** Printable ASCII but the quote and the backslash: written as it is by both languages. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

function escapeString(text: string): string {
  // The common case, checked natively: nothing to escape (an append writes several strings per event).
  if (PLAIN.test(text)) return `"${text}"`
  // JSON.stringify escapes quotes, backslashes, control characters and lone
  // surrogates; Python additionally escapes everything outside printable
  // ASCII (' ' to '~'), DEL (0x7f) included.
  return JSON.stringify(text).replace(NON_ASCII, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

function serialize(value: unknown): string | undefined {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
      return escapeString(value)
    case 'number':
      // Python would write NaN/Infinity, which no JSON parser reads back.
      return Number.isFinite(value) ? JSON.stringify(value) : 'null'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'bigint':
      return value.toString()
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined
    default:
      break
  }
  const withToJson = value as { toJSON?: () => unknown }
  if (typeof withToJson.toJSON === 'function') return serialize(withToJson.toJSON())
  if (Array.isArray(value)) {
    return `[${value.map((item) => serialize(item) ?? 'null').join(', ')}]`
  }
  const parts: string[] = []
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const text = serialize(item)
    if (text !== undefined) parts.push(`${escapeString(key)}: ${text}`)
  }
  return `{${parts.join(', ')}}`
}

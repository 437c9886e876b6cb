import { z } from 'zod'

const SAFE_INT_BOUNDS = new Set([Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER])

/**
 * The JSON Schema of a tool's input, as sent to the model: the input side of
 * the zod schema, without the `$schema` key (OpenAI function parameters
 * reject it) and without the safe-integer bounds zod adds to every integer.
 *
 * @example
 *   parametersJsonSchema(z.object({ command: z.string().describe('The bash command to run.') }))
 *   // { type: 'object', properties: { command: { type: 'string', description: '…' } }, required: ['command'] }
 */
export function parametersJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
  delete json.$schema
  return stripSafeIntBounds(json) as Record<string, unknown>
}

function stripSafeIntBounds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripSafeIntBounds)
  if (node === null || typeof node !== 'object') return node
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) {
    if ((key === 'minimum' || key === 'maximum') && typeof value === 'number' && SAFE_INT_BOUNDS.has(value)) continue
    out[key] = stripSafeIntBounds(value)
  }
  return out
}

/**
 * One line per parameter, for error messages that tell the model what to send.
 *
 * @example
 *   describeParameters(schema) // '- command (string, required): The bash command to run.\n- timeout (number, optional): …'
 */
export function describeParameters(schema: z.ZodType): string {
  const json = parametersJsonSchema(schema)
  const properties = (json.properties ?? {}) as Record<string, Record<string, unknown>>
  const required = new Set((json.required ?? []) as string[])
  return Object.entries(properties)
    .map(([name, prop]) => {
      const type = Array.isArray(prop.enum) ? prop.enum.map((v) => JSON.stringify(v)).join(' | ') : typeOf(prop)
      const description = typeof prop.description === 'string' ? `: ${firstLine(prop.description)}` : ''
      return `- ${name} (${type}, ${required.has(name) ? 'required' : 'optional'})${description}`
    })
    .join('\n')
}

function typeOf(prop: Record<string, unknown>): string {
  if (prop.type === 'array') {
    const items = prop.items as Record<string, unknown> | undefined
    return `array of ${items ? typeOf(items) : 'any'}`
  }
  return typeof prop.type === 'string' ? prop.type : 'any'
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? ''
  return line.length > 160 ? `${line.slice(0, 157)}...` : line
}

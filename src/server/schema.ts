import { z } from 'zod'

/**
 * A route's JSON Schema from the zod schema that also parses it, so fastify
 * validates at the edge and @fastify/swagger documents the same shape.
 */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >
  return rest
}

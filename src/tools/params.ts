import { z } from 'zod'

/**
 * Parameter schemas that forgive what models commonly send: `"5"` for 5 and
 * `"false"` for false. The JSON Schema the model sees still says integer or
 * boolean; only the parsing is lenient. (`z.coerce.boolean` would turn
 * `"false"` into true, hence the explicit mapping.)
 *
 * @example
 *   z.object({ insert_line: intParam('Insert after this line.') })
 */
export function intParam(description: string, opts: { min?: number } = {}) {
  const int = opts.min === undefined ? z.number().int() : z.number().int().min(opts.min)
  return z.preprocess(numericString, int).describe(description)
}

/** @example z.object({ nextThoughtNeeded: boolParam('Whether another thought step is needed') }) */
export function boolParam(description: string) {
  return z.preprocess(booleanString, z.boolean()).describe(description)
}

function numericString(value: unknown): unknown {
  return typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value
}

function booleanString(value: unknown): unknown {
  if (value === 'true') return true
  if (value === 'false') return false
  return value
}

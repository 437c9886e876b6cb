import { BerthError } from '../core/errors.js'

const UNITS: Record<string, number> = {
  s: 1000,
  m: 60 * 1000,
  h: 60 * 60 * 1000,
  d: 24 * 60 * 60 * 1000,
  w: 7 * 24 * 60 * 60 * 1000,
}

/**
 * A retention age such as `30d`, `12h`, `2w`, `90m` or `45s`, in
 * milliseconds. A bare number is refused: "30" could mean anything.
 *
 * @example
 *   parseDuration('30d') // 2_592_000_000
 */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text)
  if (!match) {
    throw new BerthError(
      'DURATION_INVALID',
      `"${text}" is not an age: write a number and a unit, e.g. 30d (days), 12h, 2w, 90m or 45s.`,
      { details: { value: text } },
    )
  }
  return Math.round(Number(match[1]) * (UNITS[(match[2] as string).toLowerCase()] as number))
}

/**
 * Timestamps in the reference system's on-disk format: naive UTC with a space
 * separator and always six fractional digits (`2025-07-11 08:11:12.283688`),
 * which also sorts lexicographically in time order.
 */

const MICROS_ORIGIN = BigInt(Math.round(performance.timeOrigin * 1000))
let lastMicros = 0n

/** Microseconds since the epoch, strictly increasing within this process. */
export function nowMicros(): bigint {
  let micros = MICROS_ORIGIN + BigInt(Math.round(performance.now() * 1000))
  if (micros <= lastMicros) micros = lastMicros + 1n
  lastMicros = micros
  return micros
}

/** `2025-07-11 08:11:12.283688` for the given instant (default: now). */
export function dbTimestamp(micros: bigint = nowMicros()): string {
  const millis = Number(micros / 1000n)
  const fraction = (micros % 1_000_000n).toString().padStart(6, '0')
  return `${new Date(millis).toISOString().slice(0, 19).replace('T', ' ')}.${fraction}`
}

/**
 * The API's form of a stored timestamp: ISO 8601 UTC with an explicit offset,
 * so clients in any time zone show the right local time
 * (`2025-07-11 08:11:12.283688` → `2025-07-11T08:11:12.283688+00:00`).
 * Values that already carry an offset or a `Z` are normalised to `+00:00` form.
 */
export function isoUtc(stored: string | null): string | null {
  if (stored === null) return null
  const trimmed = stored.trim()
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(trimmed)
  if (!match) return trimmed
  const [, date, time, fraction = '', offset] = match
  if (offset === undefined || offset === 'Z') return `${date}T${time}${fraction}+00:00`
  return `${date}T${time}${fraction}${offset.includes(':') ? offset : `${offset.slice(0, 3)}:${offset.slice(3)}`}`
}

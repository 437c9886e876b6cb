/**
 * Bytes for people: `1.5 GB`, `340 KB`, `12 B` (powers of 1024, short units).
 *
 * @example
 *   formatBytes(1536) // '1.5 KB'
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let value = n / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

/** Small helpers for benchmarks: medians and percentiles of repeated measurements. */

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[index] ?? Number.NaN
}

export const median = (values: number[]): number => percentile(values, 50)

/** Time `fn` `runs` times (after `warmup` runs) and return the durations in milliseconds. */
export async function timeRuns(runs: number, fn: () => unknown, warmup = 3): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn()
  const durations: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await fn()
    durations.push(performance.now() - start)
  }
  return durations
}

export function fmt(value: number, digits = 2): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

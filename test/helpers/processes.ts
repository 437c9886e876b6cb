import { readdirSync, readFileSync } from 'node:fs'

/**
 * Host pids of live (not zombie) processes with `marker` as one of their
 * arguments. Pids a sandboxed shell prints are its own namespace's, so tests
 * find its processes from the host by a unique argument instead.
 *
 * @example
 *   const marker = uniqueSleep()          // e.g. '4242.25'
 *   run(`sleep ${marker}`); processesWith(marker) // [12345]
 */
export function processesWith(marker: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      if (args.includes(marker) && state !== 'Z') pids.push(Number(entry))
    } catch {
      // The process ended while we looked.
    }
  }
  return pids
}

/** A `sleep` duration no other process is likely to use, to find that sleep with `processesWith`. */
export function uniqueSleep(seconds = 60): string {
  return `${seconds}.${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`
}

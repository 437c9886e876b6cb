import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'

/** Mount a small tmpfs at `dir` (created); false when this machine does not allow it (not root, container). */
export function tryMount(dir: string, options: string): boolean {
  mkdirSync(dir, { recursive: true })
  if (process.platform !== 'linux') return false
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

export function unmount(dir: string): void {
  execFileSync('umount', [dir], { stdio: 'ignore' })
}

/**
 * Whether a process with this id exists on this machine: signal 0 checks
 * without sending anything; EPERM means it exists but belongs to another user.
 *
 * @example
 *   processAlive(process.pid) // true
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

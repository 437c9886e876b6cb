import type { StepHook } from './copy-unit.js'

/**
 * Test-only: `BERTH_TEST_KILL_AT=<step>[:<n>]` makes the process SIGKILL
 * itself the n-th time (default 1st) it reaches a named step, so tests can
 * stop a migration at an exact point (mid-folder, mid-database, mid-rename)
 * and prove that running it again resumes. Unset, it does nothing.
 *
 * @example
 *   BERTH_TEST_KILL_AT=file-copied:3 berth migrate --from old --to new
 */
export function killHookFromEnv(env: Record<string, string | undefined>): StepHook | undefined {
  const spec = env.BERTH_TEST_KILL_AT
  if (spec === undefined || spec === '') return undefined
  const [step, nth] = spec.split(':')
  const limit = Number(nth ?? 1)
  let seen = 0
  return (name) => {
    if (name !== step) return
    seen++
    if (seen === limit) process.kill(process.pid, 'SIGKILL')
  }
}

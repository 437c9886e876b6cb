import { isBerthError } from '../core/errors.js'

/**
 * Run a command body and turn failures into a plain message and an exit code
 * scripts can trust: 1 for a known, explained failure (a BerthError), 2 for
 * anything unexpected (with its stack, since that is a bug).
 */
export function action<Args extends unknown[]>(body: (...args: Args) => Promise<number | undefined>) {
  return async (...args: Args): Promise<void> => {
    try {
      const code = await body(...args)
      if (code !== undefined) process.exitCode = code
    } catch (error) {
      if (isBerthError(error)) {
        process.stderr.write(`berth: ${error.message}\n`)
        process.exitCode = 1
      } else {
        process.stderr.write(
          `berth: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
        )
        process.exitCode = 2
      }
    }
  }
}

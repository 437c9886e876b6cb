import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino'
import pretty from 'pino-pretty'

export type { Logger }

export interface LoggerOptions {
  level: LevelWithSilent
  /** `<root>/agent_logs.txt`: JSON lines, appended, never truncated. Omit before the root is known. */
  file?: string
  /** Human-readable lines on stderr (stdout stays free for command output such as `--json`). */
  terminal?: boolean
}

/**
 * One logger for the process: JSON lines to the log file under the data root
 * and readable lines on the terminal. Per-session loggers are children
 * (`logger.child({ session: id })`), which share the same file handle, so
 * no handle is opened per connection or session.
 *
 * @example
 *   const logger = createLogger({ level: 'info', file: paths.logs, terminal: true })
 *   logger.child({ session: id }).info('run started')
 */
export function createLogger(options: LoggerOptions): Logger {
  const streams: { level: LevelWithSilent; stream: DestinationStream }[] = []
  if (options.file) {
    // Synchronous appends: a line is in the file when the call returns, so a
    // crash right after an error still leaves the error in the log.
    streams.push({ level: options.level, stream: logFile(options.file) })
  }
  if (options.terminal ?? true) {
    streams.push({
      level: options.level,
      stream: pretty({ destination: 2, colorize: process.stderr.isTTY === true, sync: true, ignore: 'pid,hostname' }),
    })
  }
  if (streams.length === 0) return pino({ level: 'silent' })
  return pino({ level: options.level, base: { pid: process.pid } }, pino.multistream(streams))
}

/**
 * The log file, which must never take the process down: on a full disk a
 * write fails (ENOSPC) and the stream emits `error`, which would throw with no
 * listener. The failed lines stay buffered and are written with the next line
 * once there is room again; the trouble is said once on stderr per episode.
 */
function logFile(file: string): DestinationStream {
  const destination = pino.destination({ dest: file, append: true, mkdir: true, sync: true })
  let failing = false
  destination.on('error', (error: NodeJS.ErrnoException) => {
    if (failing) return
    failing = true
    process.stderr.write(
      `berth: cannot write the log file ${file} (${error.code ?? error.message}); ` +
        'its lines are kept in memory and written once it can be written again\n',
    )
  })
  destination.on('write', () => {
    failing = false
  })
  return destination
}

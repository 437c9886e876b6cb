import cliProgress from 'cli-progress'
import type { GaiaTask } from './gaia-dataset.js'
import type { ResultRecord } from './gaia-records.js'

export interface EvalProgress {
  start(total: number): void
  taskStarted(task: GaiaTask, attempt: number): void
  taskEnded(result: ResultRecord): void
  /** A line that must not be drawn over (a warning, "stopping…"). */
  note(text: string): void
  stop(): void
}

/**
 * Progress of a run on stderr: a bar with the running score on a terminal,
 * one line per finished task otherwise (CI logs, pipes).
 *
 * @example
 *   const progress = createEvalProgress(process.stderr)
 *   progress.start(todo.length)
 */
export function createEvalProgress(stream: NodeJS.WriteStream): EvalProgress {
  return stream.isTTY ? new BarProgress(stream) : new LineProgress(stream)
}

class Tally {
  done = 0
  correct = 0
  errors = 0
  running = 0

  add(result: ResultRecord): void {
    this.running--
    if (result.status === 'interrupted') return
    this.done++
    if (result.correct === true) this.correct++
    if (result.status === 'error') this.errors++
  }
}

class BarProgress implements EvalProgress {
  private readonly tally = new Tally()
  private readonly bar: cliProgress.SingleBar
  private active = false

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format:
          'GAIA [{bar}] {value}/{total} | correct {correct} | errors {errors} | running {running} | {eta_formatted}',
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    )
  }

  start(total: number): void {
    this.active = true
    this.bar.start(total, 0, this.payload())
  }

  taskStarted(): void {
    this.tally.running++
    this.bar.update(this.payload())
  }

  taskEnded(result: ResultRecord): void {
    this.tally.add(result)
    this.bar.update(this.tally.done, this.payload())
  }

  note(text: string): void {
    if (!this.active) {
      this.stream.write(`${text}\n`)
      return
    }
    // Clear the bar's line, write the note, and let the next render draw the bar below it.
    this.stream.write(`\r\x1b[2K${text}\n`)
    this.bar.render()
  }

  stop(): void {
    if (!this.active) return
    this.active = false
    this.bar.stop()
  }

  private payload(): Record<string, number> {
    return { correct: this.tally.correct, errors: this.tally.errors, running: this.tally.running }
  }
}

class LineProgress implements EvalProgress {
  private readonly tally = new Tally()
  private total = 0

  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(total: number): void {
    this.total = total
  }

  taskStarted(): void {
    this.tally.running++
  }

  taskEnded(result: ResultRecord): void {
    this.tally.add(result)
    const verdict =
      result.status === 'interrupted'
        ? 'interrupted'
        : result.status === 'error'
          ? `error ${result.error?.code ?? ''}`.trim()
          : result.correct === null
            ? 'answered'
            : result.correct
              ? 'correct'
              : 'wrong'
    const seconds = result.duration_ms === null ? '' : ` in ${(result.duration_ms / 1000).toFixed(1)} s`
    this.stream.write(
      `[${this.tally.done}/${this.total}] ${result.task_id} (level ${result.level}): ${verdict}${seconds}, ` +
        `prediction ${JSON.stringify(result.prediction)}\n`,
    )
  }

  note(text: string): void {
    this.stream.write(`${text}\n`)
  }

  stop(): void {}
}

import type { Logger } from '../logging/logger.js'
import type { UpgradeProgress } from '../store/sqlite/schema-upgrade.js'

/** The log says where an upgrade is at least this often, even while one statement runs for long. */
const PROGRESS_LOG_MS = 5000

/**
 * Progress lines for a database upgrade: one when a step starts, then at
 * least every 5 s ("Upgrading the database: 0002_berth_columns, 42 %"), and
 * how long each step took.
 *
 * @example
 *   const log = upgradeLog(logger)
 *   await openStore(location, { onUpgradeProgress: log.progress })
 *   log.stop()
 */
export function upgradeLog(logger: Logger): { progress: (progress: UpgradeProgress) => void; stop: () => void } {
  let current: UpgradeProgress | null = null
  let stepStart = 0
  let lastLog = 0
  const line = () => {
    if (!current) return
    lastLog = Date.now()
    logger.info(
      { step: current.step, percent: percent(current) },
      `Upgrading the database: ${current.step}, ${percent(current)} %`,
    )
  }
  const timer = setInterval(() => {
    if (current && Date.now() - lastLog >= PROGRESS_LOG_MS - 500) line()
  }, 1000)
  timer.unref()
  return {
    progress(progress) {
      const started = progress.step !== current?.step
      if (started && current) finished(current)
      current = progress
      if (started) {
        stepStart = Date.now()
        line()
      }
    },
    stop() {
      clearInterval(timer)
      if (current) finished(current)
      current = null
    },
  }

  function finished(step: UpgradeProgress): void {
    const seconds = ((Date.now() - stepStart) / 1000).toFixed(1)
    logger.info(
      { step: step.step, seconds: Number(seconds) },
      `Upgrading the database: ${step.step} done in ${seconds} s`,
    )
  }
}

function percent(progress: UpgradeProgress): number {
  return Math.floor(Math.min(1, Math.max(0, progress.fraction)) * 100)
}

import { type BerthError, type ErrorCode, isBerthError } from '../core/errors.js'
import type { UnitPlan } from './migrate-plan.js'
import type { MigrationReport } from './migration-report.js'

/** Folders copied at the same time (each with several files in flight). */
const PARALLEL_UNITS = 3

/** Count the planned units that need no copy: identical ones, and those reported as different or in conflict. */
export function tallyUnits(units: readonly UnitPlan[], report: MigrationReport): void {
  for (const unit of units) {
    if (unit.state === 'identical') report.folders.identical++
    if (unit.state === 'different' || unit.state === 'conflict') {
      report.folders.different.push({ name: unit.key, reasons: unit.reasons })
    }
  }
}

/**
 * Copy the units planned as `copy`, a few at a time (one big file at the end
 * of a folder should not leave the rest idle), counting them in `report`. A
 * failure with one of `unitCodes` costs only its unit (marked `conflict`,
 * reported as failed); any other stops the run, thrown once the copies in
 * flight have ended.
 */
export async function copyUnitsInParallel<U extends UnitPlan>(
  units: readonly U[],
  report: MigrationReport,
  unitCodes: readonly ErrorCode[],
  copy: (unit: U) => Promise<{ files: number; bytes: number; skipped: string[] }>,
): Promise<void> {
  const queue = units.filter((unit) => unit.state === 'copy')
  let stop: unknown = null
  const copier = async () => {
    for (let unit = queue.shift(); unit !== undefined && stop === null; unit = queue.shift()) {
      try {
        const result = await copy(unit)
        report.folders.copied++
        report.files.copied += result.files
        report.files.bytes += result.bytes
        report.files.skipped.push(...result.skipped.map((p) => `${unit.key}/${p}`))
      } catch (error) {
        if (!unitCodes.some((code) => isBerthError(error, code))) {
          stop ??= error
          return
        }
        unit.state = 'conflict'
        report.folders.failed.push({ name: unit.key, reason: (error as BerthError).message })
      }
    }
  }
  await Promise.all(Array.from({ length: PARALLEL_UNITS }, copier))
  if (stop !== null) throw stop
}

import { stat } from 'node:fs/promises'
import path from 'node:path'
import { BerthError } from '../core/errors.js'
import { diskSpace } from '../storage/checks.js'
import type { MigrationPlan } from './migrate-plan.js'

/** Room kept free on the target beyond the plan. */
const MARGIN_BYTES = 16 * 1024 ** 2
const MARGIN_SHARE = 0.05

/**
 * Free space on the target against what the plan will write, with a margin.
 * The database counts once more on top: the scratch copy of the source sits
 * in the work folder while the merge writes about as much again.
 */
export async function checkSpace(
  targetRoot: string,
  plan: MigrationPlan,
  databaseBytes: number,
): Promise<{ freeBytes: number | null; neededBytes: number }> {
  const files = plan.units.filter((unit) => unit.state === 'copy').reduce((sum, unit) => sum + unit.bytes, 0)
  const logs = plan.logs.reduce((sum, log) => sum + log.toAppend, 0)
  // The database lands twice at worst: the scratch copy is already there, the merge adds about as much again.
  const plain = files + logs + databaseBytes
  const needed = Math.ceil(plain + MARGIN_BYTES + plain * MARGIN_SHARE)
  let probe = targetRoot
  while (!(await exists(probe)) && path.dirname(probe) !== probe) probe = path.dirname(probe)
  const free = await diskSpace(probe).then(
    (space) => space.freeBytes,
    () => null,
  )
  return { freeBytes: free, neededBytes: needed }
}

export function notEnoughSpace(target: string, free: number, needed: number): BerthError {
  return new BerthError(
    'NOT_ENOUGH_SPACE',
    `Not enough free space on the target ${target}: the migration needs about ${mb(needed)} (with a safety margin) ` +
      `and ${mb(free)} is free. Nothing was copied. Free some space or choose a larger disk, then run it again.`,
    { details: { target, freeBytes: free, neededBytes: needed } },
  )
}

function mb(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  )
}

import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { AgentEvent } from '../core/events.js'
import { processAlive } from '../core/process-alive.js'
import type { Logger } from '../logging/logger.js'
import type { Store } from '../store/store.js'
import type { LoopEnd, RunProgress } from './agent-loop.js'
import { closeLapsedRuns, RUN_LEASE_TIMING, type RunLeaseTiming } from './run-leases.js'
import type { RunOutcome } from './runs.js'

/** Why a run was stopped from outside: a user's cancel, a server shutdown, or its lease taken by another instance. */
export type StopReason = 'cancelled' | 'shutdown' | 'lease_lost'

/** Who runs a session while its status is `running`: this host and process. */
export const RUN_OWNER = `${hostname()}/${process.pid}`

/**
 * Is the process that marked a session running still alive? Only answerable
 * for this host; an unknown owner (older berth, another host) counts as gone.
 */
export function runOwnerAlive(owner: string | null): boolean {
  if (owner === null || owner === RUN_OWNER) return false
  const [host, pid] = owner.split('/')
  if (host !== hostname() || !pid || !/^\d+$/.test(pid)) return false
  return processAlive(Number(pid))
}

/**
 * A run manager's name as a lease owner: this host and process, plus a
 * suffix that tells apart the managers of one process (the server's runs,
 * an eval run inside it).
 */
export function newRunOwner(): string {
  return `${RUN_OWNER}/${randomBytes(3).toString('hex')}`
}

/**
 * Is `owner` a process of this machine that is gone? Then its lease can be
 * taken at once instead of after it lapses. Owners in this very process are
 * alive (their manager decides about its own leftovers).
 */
export function runOwnerDeadHere(owner: string | null): boolean {
  if (owner === null) return false
  const [host, pid] = owner.split('/')
  if (host !== hostname() || pid === undefined || !/^\d+$/.test(pid)) return false
  return Number(pid) !== process.pid && !processAlive(Number(pid))
}

/** What `wait` resolves with, from how the loop ended and how far it got. */
export function toOutcome(end: LoopEnd, progress: RunProgress): RunOutcome {
  return {
    status: end.status,
    answer: progress.answer,
    turns: progress.turns,
    usage: { ...progress.usage },
    ...(end.status === 'failed' ? { error: end.error } : {}),
  }
}

/**
 * The events that close a run, stored in one transaction: `stream_complete`,
 * after an `error` for a failure, or after `agent_response_interrupted` (with
 * the text streamed so far) for a cancel or shutdown.
 *
 * @example
 *   await store.appendMany(sessionId, closingEvents({ status: 'completed' }, progress, null))
 */
export function closingEvents(end: LoopEnd, progress: RunProgress, reason: StopReason | null): AgentEvent[] {
  const complete: AgentEvent = {
    type: 'stream_complete',
    content: {
      status: end.status,
      turns: progress.turns,
      usage: { input_tokens: progress.usage.inputTokens, output_tokens: progress.usage.outputTokens },
    },
  }
  switch (end.status) {
    case 'completed':
      return [complete]
    case 'failed':
      return [{ type: 'error', content: { message: end.error.message, error_code: end.error.code } }, complete]
    case 'interrupted':
      return [
        {
          type: 'agent_response_interrupted',
          // A run that lost its lease cannot store this; the owner that took over records `crashed`.
          content: { text: progress.step.text, reason: reason === 'lease_lost' ? 'crashed' : (reason ?? 'cancelled') },
        },
        complete,
      ]
  }
}

/**
 * Close the runs a dead process left `running` (see `closeLapsedRuns` in
 * run-leases.ts): an interrupt (`crashed`) and `stream_complete`, unless the
 * run had already stored its end, then status `interrupted`. Runs whose
 * owner still renews its lease, and lease-less runs of a live process on this
 * host, are left alone. Returns how many sessions it closed.
 *
 * @example
 *   await recoverInterruptedRuns(store, (id) => runs.isRunning(id), logger)
 */
export function recoverInterruptedRuns(
  store: Store,
  isActiveHere: (sessionId: string) => boolean,
  logger: Logger,
  options: { timing?: RunLeaseTiming; owner?: string } = {},
): Promise<number> {
  const owner = options.owner ?? newRunOwner()
  return closeLapsedRuns(store, {
    owner,
    timing: options.timing ?? RUN_LEASE_TIMING,
    isActiveHere,
    ownerAlive: runOwnerAlive,
    // The caller's own leftovers (an end it could not store) are free to take as well.
    ownerDeadHere: (candidate) => candidate === owner || runOwnerDeadHere(candidate),
    logger,
  })
}

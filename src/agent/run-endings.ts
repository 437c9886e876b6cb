import { hostname } from 'node:os'
import type { AgentEvent } from '../core/events.js'
import { processAlive } from '../core/process-alive.js'
import type { Logger } from '../logging/logger.js'
import type { Store } from '../store/store.js'
import type { LoopEnd, RunProgress } from './agent-loop.js'
import type { RunOutcome } from './runs.js'

export type StopReason = 'cancelled' | 'shutdown'

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
        { type: 'agent_response_interrupted', content: { text: progress.step.text, reason: reason ?? 'cancelled' } },
        complete,
      ]
  }
}

/**
 * Close the runs a dead process left `running`: an interrupt (`crashed`)
 * and `stream_complete`, unless the run had already stored its end, then
 * status `interrupted`. Returns how many sessions it closed.
 *
 * @example
 *   await recoverInterruptedRuns(store, (id) => runs.isRunning(id), logger)
 */
export async function recoverInterruptedRuns(
  store: Store,
  isActiveHere: (sessionId: string) => boolean,
  logger: Logger,
): Promise<number> {
  let recovered = 0
  for (const session of await store.listSessionsWithStatus('running')) {
    // Runs of this process, and of a live CLI or eval runner sharing the root, are not cut off.
    if (isActiveHere(session.id) || runOwnerAlive(session.runOwner)) continue
    // The process may have died after storing the end of the run but before updating the status.
    if ((await lastEventType(store, session.id)) !== 'stream_complete') {
      await store.appendMany(session.id, [
        { type: 'agent_response_interrupted', content: { text: '', reason: 'crashed' } },
        { type: 'stream_complete', content: { status: 'interrupted' } },
      ])
    }
    await store.setStatus(session.id, 'interrupted')
    logger.warn({ session: session.id }, 'a run was cut off when berth stopped; it is marked interrupted')
    recovered++
  }
  return recovered
}

async function lastEventType(store: Store, sessionId: string): Promise<string | null> {
  let after = 0
  let last: string | null = null
  for (;;) {
    const page = await store.readEvents(sessionId, { after, limit: 5000 })
    last = page.events.at(-1)?.type ?? last
    if (page.nextAfter === null) return last
    after = page.nextAfter
  }
}

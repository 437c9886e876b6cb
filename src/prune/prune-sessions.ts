import { stat } from 'node:fs/promises'
import { dbTimestamp } from '../core/time.js'
import type { Store } from '../store/store.js'
import { diskUsage } from '../workspace/disk-usage.js'
import { type WorkspaceStorage, workspaceKey } from '../workspace/workspace-storage.js'
import type { Workspaces } from '../workspace/workspaces.js'

/** A session retention would delete, and what it holds. */
export interface PruneCandidate {
  id: string
  name: string | null
  summary: string | null
  /** Last change, stored form. */
  lastActive: string | null
  events: number
  /** Its folder when it has one: a path on local disk, the workspace key on a remote storage (S3). */
  folder: string | null
  bytes: number
}

export interface PrunePlan {
  /** Sessions idle since before this (stored timestamp form). */
  cutoff: string
  candidates: PruneCandidate[]
  /** Idle but left alone because a run is marked as going on. */
  running: string[]
}

/**
 * List the sessions that have not changed for `olderThanMs`: each with its
 * events and the bytes of its folder. Nothing is deleted; retention only
 * ever happens when a person asks for it (`berth prune`, `POST /admin/cleanup`;
 * invariant 5).
 *
 * @example
 *   const plan = await planPrune(store, workspaces, { olderThanMs: parseDuration('30d') })
 */
export async function planPrune(
  store: Store,
  workspaces: Workspaces,
  options: {
    olderThanMs: number
    now?: Date
    /** Stop once the candidates so far hold this many bytes (least recently active first); 0 or unset: no limit. */
    targetBytes?: number
    /** Stop at this many candidates. */
    maxSessions?: number
    /** A run going on in this process (the server's `RunManager`): kept like a session marked running. */
    isRunning?: (sessionId: string) => boolean
    /** Where workspaces live (`Runtime.workspaceStorage`); the local folders of `workspaces` by default. */
    storage?: WorkspaceStorage
  },
): Promise<PrunePlan> {
  const remote = remoteStorage(options.storage)
  const now = options.now ?? new Date()
  const cutoff = dbTimestamp(BigInt(now.getTime() - options.olderThanMs) * 1000n)
  const candidates: PruneCandidate[] = []
  const running: string[] = []
  let bytes = 0
  for (const session of await store.sessionsUpdatedBefore(cutoff)) {
    // Limits stop the walk early, so only the sessions that will go are sized (a size is a tree walk).
    if (options.maxSessions !== undefined && candidates.length >= options.maxSessions) break
    if (options.targetBytes && bytes >= options.targetBytes) break
    if (session.status === 'running' || options.isRunning?.(session.id)) {
      running.push(session.id)
      continue
    }
    let folder: string | null
    let size: number
    if (remote !== null) {
      const key = await workspaceKey(remote, session)
      folder = (await remote.exists(key)) ? key : null
      size = folder === null ? 0 : await remote.usage(key)
    } else {
      const dir = workspaces.dirFor(session.id, session.workspaceDir)
      folder = (await isDirectory(dir)) ? dir : null
      size = folder === null ? 0 : await diskUsage(folder)
    }
    bytes += size
    candidates.push({
      id: session.id,
      name: session.name,
      summary: session.summary,
      lastActive: session.updatedAt ?? session.createdAt,
      events: await store.countEvents(session.id),
      folder,
      bytes: size,
    })
  }
  return { cutoff, candidates, running }
}

/**
 * Delete exactly the planned sessions: the folder first, then the session
 * and its events, so a run stopped halfway leaves a session that a second
 * run still finds (never a folder nobody lists).
 *
 * @example
 *   const freed = await pruneSessions(store, workspaces, plan.candidates)
 */
export async function pruneSessions(
  store: Store,
  workspaces: Workspaces,
  candidates: readonly PruneCandidate[],
  onDeleted?: (candidate: PruneCandidate) => void,
  /** Where workspaces live, as given to `planPrune`. */
  storage?: WorkspaceStorage,
): Promise<{ sessions: number; events: number; bytes: number }> {
  const remote = remoteStorage(storage)
  const freed = { sessions: 0, events: 0, bytes: 0 }
  for (const candidate of candidates) {
    const session = await store.getSession(candidate.id)
    if (session === null) continue
    if (remote !== null) await remote.remove(await workspaceKey(remote, session), '')
    else await workspaces.remove(candidate.id, session.workspaceDir)
    const { eventsDeleted } = await store.deleteSession(candidate.id)
    freed.sessions++
    freed.events += eventsDeleted
    freed.bytes += candidate.bytes
    onDeleted?.(candidate)
  }
  return freed
}

/** A storage other than the local folders (S3): sized and emptied through its interface, not by walking a disk. */
function remoteStorage(storage: WorkspaceStorage | undefined): WorkspaceStorage | null {
  return storage !== undefined && storage.kind !== 'local' ? storage : null
}

async function isDirectory(dir: string): Promise<boolean> {
  return stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  )
}

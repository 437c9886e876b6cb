import { unlink } from 'node:fs/promises'
import path from 'node:path'
import { openStore } from '../store/open-store.js'
import { SqliteStore } from '../store/sqlite/sqlite-store.js'
import type { Store } from '../store/store.js'
import type { SessionRecord, SessionTransfer } from '../store/types.js'
import type { StepHook } from './copy-unit.js'

export interface SourceDatabase {
  store: Store
  /** `berth` when the file carries berth's schema steps, else an ii-agent database. */
  kind: 'berth' | 'ii-agent'
  file: string
}

/**
 * Take a consistent copy of a source database into `workDir` (never writing
 * next to the source) and open the copy, bringing its schema up to date. The
 * schema step's own safety backup is pointless for a scratch copy and is
 * removed at once.
 *
 * @example
 *   const { store, kind } = await openSourceCopy('/old/events.db', '/var/data/.berth-migrate/ab12', onStep)
 */
export async function openSourceCopy(file: string, workDir: string, onStep: StepHook): Promise<SourceDatabase> {
  const copy = path.join(workDir, 'source.db')
  await SqliteStore.snapshotFile(file, copy, { onStep: () => void onStep('db-snapshot-step', file) })
  await onStep('db-snapshotted', file)
  const peek = await openStore({ kind: 'sqlite', file: copy }, { readonly: true })
  const kind = (await peek.schemaState()).applied.length > 0 ? 'berth' : 'ii-agent'
  await peek.close()
  const store = await openStore(
    { kind: 'sqlite', file: copy },
    {
      onMigrationBackup: (backup) => void unlink(backup).catch(() => undefined),
    },
  )
  return { store, kind, file: copy }
}

/** Every session of a store, a page at a time. */
export async function* allSessions(store: Store): AsyncGenerator<SessionRecord> {
  let after: string | null = null
  for (;;) {
    const page = await store.scanSessions({ after, limit: 500 })
    yield* page
    const last = page[page.length - 1]
    if (last === undefined || page.length < 500) return
    after = last.id
  }
}

/**
 * A session with all its events and share links, ready for `mergeSession`,
 * its record replaced by `session` (e.g. with the folder rewritten).
 */
export async function readTransfer(
  store: Store,
  session: SessionRecord,
  originalId = session.id,
): Promise<SessionTransfer> {
  const events = []
  let after = 0
  for (;;) {
    const page = await store.readEvents(originalId, { after, limit: 10_000 })
    events.push(...page.events)
    if (page.nextAfter === null) break
    after = page.nextAfter
  }
  const shares = await store.listShares(originalId)
  return { session, events, shares }
}

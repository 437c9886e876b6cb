import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { BerthError, isBerthError } from '../core/errors.js'
import { syncDirectory } from '../core/fsync.js'
import { newId } from '../core/ids.js'
import type { Store } from '../store/store.js'
import type { SessionRecord, StoredEvent } from '../store/types.js'
import { applyModesAndTimes } from '../transfer/apply-modes.js'
import { type ExtractedEntry, extractEntry } from '../transfer/extract-entry.js'
import { readTarEntries } from '../transfer/tar-reader.js'
import { walkTree } from '../transfer/tree-walk.js'
import { normalizeRelativePath } from '../workspace/containment.js'
import type { WorkspaceStorage } from '../workspace/workspace-storage.js'
import type { Workspaces } from '../workspace/workspaces.js'
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  type BundleChecksums,
  type BundleManifest,
  bundleEventSchema,
  bundleManifestSchema,
  CHECKSUMS,
  checksumsSchema,
  EVENTS,
  MANIFEST,
  WORKSPACE,
} from './bundle-format.js'

export interface BundleImport {
  /** The id the session has here: the original one when it was free. */
  sessionId: string
  originalId: string
  /** The session id (and so its folder name) was taken here and a new one was given. */
  remapped: boolean
  /** Events whose id was taken here and got a new one (their content is unchanged). */
  eventIdsRemapped: number
  events: number
  files: number
  bytes: number
}

const MAX_SMALL_ENTRY = 64 * 1024 * 1024

/**
 * Import a session bundle written by `writeSessionBundle` (from a file, an
 * upload, any readable). Everything is checked before the store changes:
 * format version, every path through the containment check, every size and
 * SHA-256. Ids are kept when free here and remapped when taken: a taken
 * session id gets a new one (and the folder is named after it), taken event
 * ids get new ones; payloads stay byte for byte. The folder is moved into
 * place first (on a remote storage, its files uploaded), then the session and
 * its events are inserted in one transaction, so the session lists, replays
 * and continues like the original.
 *
 * @example
 *   const result = await importSessionBundle(store, workspaces, createReadStream('s.tar.gz'), { deviceId })
 *   result.sessionId // the original id, or a new one if it was taken
 */
export async function importSessionBundle(
  store: Store,
  workspaces: Workspaces,
  input: Readable,
  options: {
    deviceId?: string | null
    stagingDir?: string
    /** Where sessions' workspaces live (`Runtime.workspaceStorage`); the local folders of `workspaces` by default. */
    storage?: WorkspaceStorage
  } = {},
): Promise<BundleImport> {
  const storage = options.storage ?? workspaces.storage
  const stagingParent = options.stagingDir ?? path.dirname(workspaces.root)
  const staging = path.join(stagingParent, `.berth-import-${randomBytes(6).toString('hex')}`)
  await mkdir(staging, { recursive: true })
  try {
    const { manifest, bytes, files } = await unpack(input, staging, workspaces.quotaBytes)
    const events = await readEvents(path.join(staging, EVENTS), manifest)
    const taken = (await store.getSession(manifest.session.id)) !== null || (await storage.exists(manifest.session.id))
    const sessionId = taken ? newId() : manifest.session.id
    const takenEvents = await store.existingEventIds(events.map((event) => event.id))
    const stored: StoredEvent[] = events.map((event) => ({
      ...event,
      id: takenEvents.has(event.id) ? newId() : event.id,
      sessionId,
    }))
    const folder = workspaces.storage.folderOf(sessionId)
    const session: SessionRecord = {
      ...manifest.session,
      id: sessionId,
      workspaceDir: folder,
      deviceId: options.deviceId === undefined ? manifest.session.deviceId : options.deviceId,
      // Nothing runs it here: a run that was going on where it was exported is over.
      status: manifest.session.status === 'running' ? 'interrupted' : manifest.session.status,
      runOwner: null,
    }
    const unpacked = path.join(staging, WORKSPACE)
    // The files go in first, then the session: a failure in between leaves a folder doctor reports, never a
    // session without its files. What this import put in place is taken away again if the session is refused.
    const undo =
      storage.kind === 'local'
        ? () => rm(folder, { recursive: true, force: true })
        : () => storage.remove(sessionId, '')
    if (storage.kind === 'local') {
      // Renamed into place: one step on the same disk.
      await mkdir(workspaces.root, { recursive: true })
      if (await exists(unpacked)) {
        await rename(unpacked, folder)
        await syncDirectory(workspaces.root)
      } else {
        await workspaces.create(sessionId)
      }
    } else {
      await uploadWorkspace(storage, sessionId, unpacked).catch(async (error: unknown) => {
        await undo().catch(() => undefined)
        throw error
      })
    }
    const result = await store.mergeSession({ session, events: stored }).catch(async (error: unknown) => {
      await undo()
      throw error
    })
    if (result.outcome !== 'inserted') {
      await undo()
      throw new BerthError('SESSION_EXISTS', `Could not import the session: ${result.conflicts.join('; ')}`, {
        details: { sessionId, conflicts: result.conflicts },
      })
    }
    return {
      sessionId,
      originalId: manifest.session.id,
      remapped: taken,
      eventIdsRemapped: takenEvents.size,
      events: stored.length,
      files,
      bytes,
    }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

/**
 * A remote storage (S3) gets the unpacked files one by one. It keeps no
 * symlinks (the scratch copies of s3/scratch-folder.ts never upload one
 * either), nor modes and times; empty folders other than the standard ones
 * are not kept.
 */
async function uploadWorkspace(storage: WorkspaceStorage, sessionId: string, unpacked: string): Promise<void> {
  await storage.create(sessionId)
  if (!(await exists(unpacked))) return
  for (const entry of await walkTree(unpacked)) {
    if (entry.type !== 'file') continue
    await storage.write(sessionId, entry.path, createReadStream(path.join(unpacked, ...entry.path.split('/'))))
  }
}

async function unpack(
  input: Readable,
  staging: string,
  quotaBytes: number | null,
): Promise<{ manifest: BundleManifest; files: number; bytes: number }> {
  let manifest: BundleManifest | null = null
  let checksums: BundleChecksums | null = null
  const seen = new Map<string, ExtractedEntry>()
  let bytes = 0
  let files = 0
  try {
    for await (const entry of readTarEntries(input)) {
      const rel = safePath(entry.path)
      if (manifest === null && rel !== MANIFEST) throw invalid(`${MANIFEST} must come first, found ${rel}`)
      if (rel === MANIFEST) {
        const data = await smallEntry(entry)
        manifest = parseManifest(data.toString('utf8'))
        seen.set(rel, { type: 'file', size: data.length, sha256: createHash('sha256').update(data).digest('hex') })
        continue
      }
      if (rel === CHECKSUMS) {
        checksums = parseChecksums((await smallEntry(entry)).toString('utf8'))
        continue
      }
      if (rel !== EVENTS && rel !== WORKSPACE && !rel.startsWith(`${WORKSPACE}/`)) {
        throw invalid(`unexpected entry ${rel}`)
      }
      const extracted = await extractEntry(entry, rel, staging)
      seen.set(rel, extracted)
      if (rel !== EVENTS && extracted.type === 'file') {
        files++
        bytes += extracted.size
        if (quotaBytes !== null && bytes > quotaBytes) {
          throw new BerthError(
            'WORKSPACE_QUOTA_EXCEEDED',
            `The bundle's files are larger than the workspace limit of ${quotaBytes} bytes; nothing was imported.`,
            { details: { limitBytes: quotaBytes } },
          )
        }
      }
    }
  } catch (error) {
    if (isBerthError(error)) {
      if (error.code === 'PATH_OUTSIDE_WORKSPACE')
        throw invalid('it tries to write outside its folder through a symlink')
      throw error
    }
    throw invalid(`it is damaged or truncated (${error instanceof Error ? error.message : String(error)})`)
  }
  if (manifest === null) throw invalid(`it has no ${MANIFEST}`)
  if (checksums === null) throw invalid(`it has no ${CHECKSUMS}: it was cut short`)
  const problems = compare(checksums, seen)
  if (problems.length > 0) throw invalid(problems.slice(0, 5).join('; '))
  const timed = checksums.entries.filter(
    (entry): entry is typeof entry & { mtimeUs: number } => entry.mtimeUs !== undefined && entry.path !== EVENTS,
  )
  await applyModesAndTimes(staging, timed)
  return { manifest, files, bytes }
}

async function readEvents(file: string, manifest: BundleManifest): Promise<Omit<StoredEvent, 'sessionId'>[]> {
  const events: Omit<StoredEvent, 'sessionId'>[] = []
  const lines = createInterface({
    input: createReadStream(file, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  })
  let previous = 0
  for await (const line of lines) {
    if (line === '') continue
    const parsed = bundleEventSchema.safeParse(JSON.parse(line))
    if (!parsed.success) throw invalid(`event ${events.length + 1} is malformed`)
    if (parsed.data.seq <= previous) throw invalid(`events are out of order at position ${parsed.data.seq}`)
    previous = parsed.data.seq
    events.push(parsed.data)
  }
  if (events.length !== manifest.events.count) {
    throw invalid(`it holds ${events.length} events, its manifest says ${manifest.events.count}`)
  }
  return events
}

function compare(checksums: BundleChecksums, seen: Map<string, ExtractedEntry>): string[] {
  const problems: string[] = []
  const expected = new Set<string>()
  for (const want of checksums.entries) {
    expected.add(want.path)
    const got = seen.get(want.path)
    if (got === undefined) problems.push(`${want.path} is missing`)
    else if (got.type !== want.type) problems.push(`${want.path} has the wrong type`)
    else if (want.type === 'file' && (got.size !== want.size || got.sha256 !== want.sha256)) {
      problems.push(`${want.path} fails its checksum`)
    } else if (want.type === 'symlink' && got.target !== want.target) problems.push(`${want.path} links elsewhere`)
  }
  for (const name of seen.keys()) if (!expected.has(name)) problems.push(`${name} is not in ${CHECKSUMS}`)
  return problems
}

function parseManifest(text: string): BundleManifest {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw invalid(`${MANIFEST} is not JSON`)
  }
  const format = (value as { format?: unknown; version?: unknown } | null)?.format
  const version = (value as { version?: unknown } | null)?.version
  if (format !== BUNDLE_FORMAT) throw invalid('it is not a berth session bundle')
  if (typeof version === 'number' && version > BUNDLE_VERSION) {
    throw invalid(`it was written by a newer berth (bundle format ${version}; this one reads up to ${BUNDLE_VERSION})`)
  }
  const parsed = bundleManifestSchema.safeParse(value)
  if (!parsed.success) throw invalid(`${MANIFEST} is malformed: ${parsed.error.issues[0]?.message ?? ''}`)
  return parsed.data
}

function parseChecksums(text: string): BundleChecksums {
  try {
    return checksumsSchema.parse(JSON.parse(text))
  } catch {
    throw invalid(`${CHECKSUMS} is malformed`)
  }
}

function safePath(name: string): string {
  try {
    return normalizeRelativePath(name.replace(/\/+$/, ''))
  } catch {
    throw invalid(`it holds an unsafe path ${JSON.stringify(name)}`)
  }
}

async function smallEntry(entry: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of entry) {
    size += (chunk as Buffer).length
    if (size > MAX_SMALL_ENTRY) throw invalid('a metadata entry is implausibly large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function invalid(why: string): BerthError {
  return new BerthError('ARCHIVE_INVALID', `The session bundle cannot be imported: ${why}. Nothing was changed.`, {
    details: { reason: why },
  })
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  )
}

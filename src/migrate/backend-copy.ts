import { createHash } from 'node:crypto'
import { type Readable, Transform } from 'node:stream'
import { BerthError } from '../core/errors.js'
import type { WorkspaceEntry, WorkspaceKey, WorkspaceStorage } from '../workspace/workspace-storage.js'
import type { WorkspaceSide } from './backend-endpoints.js'
import type { StepHook } from './copy-unit.js'
import type { Journal } from './journal.js'

/** Every entry of a workspace but the workspace itself, in the storage's depth-first order. */
export async function listWorkspace(storage: WorkspaceStorage, key: WorkspaceKey): Promise<WorkspaceEntry[]> {
  const out: WorkspaceEntry[] = []
  for await (const entry of storage.list(key)) if (entry.path !== '') out.push(entry)
  return out
}

/** SHA-256 and length of a stream. */
export async function hashStream(body: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of body) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).byteLength
  }
  return { sha256: hash.digest('hex'), size }
}

/** A file's content hash, read through the storage. */
export async function hashFile(storage: WorkspaceStorage, key: WorkspaceKey, file: string) {
  return hashStream((await storage.read(key, file)).body)
}

export interface TreeDifference {
  identical: boolean
  differences: string[]
}

/**
 * Whether the target workspace holds exactly the source's folders and files
 * (same paths, types, sizes and SHA-256). Links and special files, which
 * S3 cannot hold, are left out of the comparison (they are reported as not
 * copied). Times and modes are not compared: S3 keeps neither.
 */
export async function compareWorkspaces(
  source: WorkspaceStorage,
  target: WorkspaceStorage,
  key: WorkspaceKey,
  sourceEntries: WorkspaceEntry[],
): Promise<TreeDifference> {
  const theirs = new Map((await listWorkspace(target, key)).map((entry) => [entry.path, entry]))
  const differences: string[] = []
  const files: WorkspaceEntry[] = []
  for (const entry of sourceEntries) {
    if (entry.type === 'symlink') continue
    const other = theirs.get(entry.path)
    theirs.delete(entry.path)
    if (other === undefined) differences.push(`${entry.path} is missing at the target`)
    else if (other.type !== entry.type) differences.push(`${entry.path} is a ${other.type} at the target`)
    else if (entry.type === 'file' && other.size !== entry.size) differences.push(`${entry.path} differs in size`)
    else if (entry.type === 'file') files.push(entry)
  }
  for (const extra of theirs.keys()) differences.push(`${extra} exists only at the target`)
  if (differences.length === 0) {
    for (const file of files) {
      const [a, b] = await Promise.all([hashFile(source, key, file.path), hashFile(target, key, file.path)])
      if (a.sha256 !== b.sha256) differences.push(`${file.path} differs in content`)
      if (differences.length >= 5) break
    }
  }
  return { identical: differences.length === 0, differences: differences.slice(0, 5) }
}

export interface BackendCopyContext {
  source: WorkspaceSide
  target: WorkspaceSide
  journal: Journal
  onStep: StepHook
  onBytes: (bytes: number) => void
}

export interface BackendUnitResult {
  files: number
  bytes: number
  /** Links and special files, which are not copied. */
  skipped: string[]
}

/** Files of one workspace in flight at once (each is one request to S3, or one local write). */
const PARALLEL_FILES = 4

/**
 * Copy one workspace from one storage to another: its empty folders as
 * folders (a marker on S3), each file streamed through the target's atomic
 * write, then read back from the target and compared with the source by
 * size and SHA-256, then journaled. A file journaled by an interrupted run
 * is kept when its source still has the size and ETag it had and the target
 * still has the size (not copied again). A source that changed while it was
 * copied fails the unit with `SOURCE_CHANGED` (what was copied stays; a
 * rerun brings the rest). The unit line is journaled last, fsynced.
 *
 * @example
 *   await copyWorkspace('0b6f…', entries, { source, target, journal, onStep, onBytes })
 */
export async function copyWorkspace(
  key: WorkspaceKey,
  entries: WorkspaceEntry[],
  ctx: BackendCopyContext,
): Promise<BackendUnitResult> {
  const unit = `workspace/${key}`
  const journaled = new Map<string, { size: number; etag: string }>()
  for (const line of ctx.journal.all('object')) if (line.unit === unit) journaled.set(line.path, line)
  if (!ctx.journal.all('unit-begin').some((line) => line.unit === unit)) {
    await ctx.journal.append({ t: 'unit-begin', unit }, { sync: true })
  }
  await ctx.target.makeWorkspace(key)
  const skipped: string[] = []
  const files: WorkspaceEntry[] = []
  for (const entry of entries) {
    if (entry.type === 'symlink') skipped.push(entry.path)
    else if (entry.type === 'file') files.push(entry)
    else if (!entries.some((other) => other.path.startsWith(`${entry.path}/`))) {
      // An empty folder: S3 keeps it only as a marker; a folder with contents comes with them.
      await ctx.target.makeFolder(key, entry.path)
    }
  }
  let next = 0
  let failure: { error: unknown } | null = null
  const worker = async () => {
    while (next < files.length && failure === null) {
      const entry = files[next++] as WorkspaceEntry
      try {
        await copyFile(key, unit, entry, journaled.get(entry.path), ctx)
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  await Promise.all(Array.from({ length: PARALLEL_FILES }, worker))
  if (failure !== null) throw (failure as { error: unknown }).error
  await removeStrays(key, entries, ctx.target)
  const now = await listWorkspace(ctx.source.storage, key)
  const changed = changedEntry(entries, now)
  if (changed !== null) throw sourceChanged(key, changed)
  const bytes = files.reduce((sum, file) => sum + file.size, 0)
  await ctx.journal.append({ t: 'unit', unit, files: files.length, bytes }, { sync: true })
  await ctx.onStep('unit-renamed', unit)
  return { files: files.length, bytes, skipped }
}

async function copyFile(
  key: WorkspaceKey,
  unit: string,
  entry: WorkspaceEntry,
  earlier: { size: number; etag: string } | undefined,
  ctx: BackendCopyContext,
): Promise<void> {
  if (earlier !== undefined && earlier.size === entry.size && earlier.etag === entry.etag) {
    const there = await ctx.target.storage.stat(key, entry.path)
    if (there?.type === 'file' && there.size === entry.size) {
      ctx.onBytes(entry.size)
      return
    }
  }
  const read = await ctx.source.storage.read(key, entry.path)
  if (read.entry.etag !== entry.etag || read.entry.size !== entry.size) {
    read.body.destroy()
    throw sourceChanged(key, entry.path)
  }
  const hash = createHash('sha256')
  let size = 0
  // Hashed as it passes, without taking the stream out of the target's hands (a 'data' listener would).
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk)
      size += chunk.byteLength
      done(null, chunk)
    },
  })
  read.body.on('error', (error) => tap.destroy(error))
  read.body.pipe(tap)
  await ctx.target.storage.write(key, entry.path, tap)
  const sha256 = hash.digest('hex')
  if (size !== entry.size) throw sourceChanged(key, entry.path)
  const back = await hashFile(ctx.target.storage, key, entry.path)
  if (back.sha256 !== sha256 || back.size !== size) {
    throw new BerthError(
      'COPY_VERIFY_FAILED',
      `${entry.path} of workspace ${key} read back from ${ctx.target.label} differs from what was written ` +
        `(${back.size} bytes, sha-256 ${back.sha256.slice(0, 12)}…; expected ${size} bytes, ${sha256.slice(0, 12)}…).`,
      { details: { key, path: entry.path } },
    )
  }
  await ctx.journal.append({ t: 'object', unit, path: entry.path, size, etag: entry.etag, sha256 })
  ctx.onBytes(size)
  await ctx.onStep('file-copied', `${unit}/${entry.path}`)
}

/**
 * Remove from a workspace this run writes what the source does not have:
 * the temporary file of a local write cut off by a kill, or a file removed
 * from the source between two runs. Only ever called for a workspace that
 * was absent at the target or that this run's journal began.
 */
async function removeStrays(key: WorkspaceKey, entries: WorkspaceEntry[], target: WorkspaceSide): Promise<void> {
  const wanted = new Map(entries.map((entry) => [entry.path, entry.type]))
  const removed: string[] = []
  for (const entry of await listWorkspace(target.storage, key)) {
    if (wanted.get(entry.path) === entry.type || removed.some((dir) => entry.path.startsWith(`${dir}/`))) continue
    await target.storage.remove(key, entry.path)
    removed.push(entry.path)
  }
}

/** The first path whose type, size or ETag differs between two listings of one workspace, or null. */
export function changedEntry(before: WorkspaceEntry[], after: WorkspaceEntry[]): string | null {
  const now = new Map(after.map((entry) => [entry.path, entry]))
  for (const entry of before) {
    const other = now.get(entry.path)
    now.delete(entry.path)
    if (other === undefined || other.type !== entry.type) return entry.path
    if (entry.type === 'file' && (other.size !== entry.size || other.etag !== entry.etag)) return entry.path
  }
  const added = now.keys().next()
  return added.done ? null : added.value
}

function sourceChanged(key: WorkspaceKey, file: string): BerthError {
  return new BerthError(
    'SOURCE_CHANGED',
    `${file} in workspace ${key} changed while it was copied, so the workspace was not completed. ` +
      'Stop whatever writes to it and run the migration again: what was verified is kept.',
    { details: { unit: `workspace/${key}`, path: file } },
  )
}

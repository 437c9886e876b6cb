import { createHash } from 'node:crypto'
import { lstat, mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { BerthError, isBerthError } from '../core/errors.js'
import { syncDirectory } from '../core/fsync.js'
import { applyMetadata, copyFilesVerified, copySymlink, sameContent, syncFiles } from '../transfer/copy-verified.js'
import { sameStat, type TreeEntry, treeBytes, walkTree } from '../transfer/tree-walk.js'
import type { Journal } from './journal.js'

/** One top-level folder (or file) copied as a whole: usually a session's workspace. */
export interface CopyUnit {
  /** Unique, stable name: `workspace/<name>` or a top-level name of the root. */
  key: string
  source: string
  target: string
}

/** Named points inside a migration; tests stop the process at them to prove resuming works. */
export type StepHook = (step: string, detail: string) => void | Promise<void>

export interface CopyUnitContext {
  /** `<target>/.berth-migrate/<id>/staging`, on the target's file system. */
  stagingDir: string
  journal: Journal
  onStep: StepHook
  /** Bytes copied (or found already staged) since the last call. */
  onBytes: (bytes: number) => void
  /** syncfs of the staging folder's file system (shared with other units); false where unavailable. */
  flushFileSystem: () => Promise<boolean>
}

export interface UnitCopyResult {
  files: number
  bytes: number
  /** The source as verified: what `--move` may delete if it is still exactly this. */
  entries: TreeEntry[]
  /** Sockets, FIFOs and devices, which are not copied. */
  skipped: string[]
}

/** A source that keeps changing is copied this many times before the unit is given up. */
const MAX_ATTEMPTS = 3
/** Batches in flight per unit: enough to keep every file worker busy while others wait on the disk. */
const PARALLEL_BATCHES = 8
/** Small files travel to a worker together, up to this many or this many bytes in one message. */
const BATCH_FILES = 64
const BATCH_BYTES = 4 * 1024 ** 2
/**
 * A unit of this many files is flushed with one syncfs rather than an fsync
 * per file: a syncfs costs a process spawn, which only pays off beyond a few
 * dozen files (an ii-agent folder of a handful of files syncs faster alone).
 */
const SYNCFS_MIN_FILES = 64

/**
 * Copy a unit into a staging folder on the target's disk, verify every file
 * (each chunk read back from the copy and compared with the source's), check
 * that the source did not change meanwhile, flush the staged tree to disk
 * (file by file, or one shared syncfs for a unit of many files), then rename
 * the unit into place in one step and journal it. Files already staged and
 * journaled by an earlier, interrupted run are compared with their source
 * again and kept instead of copied again. The target must not exist.
 * `walked` (the plan's walk of the source) saves the first walk; a source
 * that changed since is caught file by file and walked again.
 *
 * @example
 *   await copyUnit({ key: 'workspace/abc', source: '/old/workspace/abc', target: '/new/workspace/abc' }, ctx)
 */
export async function copyUnit(unit: CopyUnit, ctx: CopyUnitContext, walked?: TreeEntry[]): Promise<UnitCopyResult> {
  const staged = path.join(ctx.stagingDir, createHash('sha256').update(unit.key).digest('hex').slice(0, 24))
  await mkdir(ctx.stagingDir, { recursive: true })
  let entries: TreeEntry[] = []
  let skipped: string[] = []
  for (let attempt = 1; ; attempt++) {
    entries = attempt === 1 && walked !== undefined ? walked : await walkTree(unit.source)
    let changed: string | null
    try {
      skipped = await stage(unit, staged, entries, ctx)
      await ctx.onStep('unit-staged', unit.key)
      changed = changedEntry(entries, await walkTree(unit.source))
    } catch (error) {
      // A file that no longer matches the walk: walk again and start over, as for a change found afterwards.
      if (!isBerthError(error, 'SOURCE_CHANGED')) throw error
      changed = path.relative(unit.source, String(error.details?.file ?? unit.source))
    }
    if (changed === null) break
    if (attempt === MAX_ATTEMPTS) {
      throw new BerthError(
        'SOURCE_CHANGED',
        `${path.join(unit.source, changed)} kept changing while it was copied (${MAX_ATTEMPTS} attempts), ` +
          `so ${unit.source} was not migrated. Stop whatever writes to it and run the migration again.`,
        { details: { unit: unit.key, path: changed } },
      )
    }
  }
  // Durable before the rename makes the unit visible: one syncfs for a large unit; else (or where syncfs is
  // unavailable) its files together, then its folders deepest first.
  const files = entries.filter((entry) => entry.type === 'file')
  if (!(files.length >= SYNCFS_MIN_FILES && (await ctx.flushFileSystem()))) {
    await syncFiles(files.map((entry) => path.join(staged, entry.path)))
    await syncTree(staged, entries)
  }
  await mkdir(path.dirname(unit.target), { recursive: true })
  await rename(staged, unit.target)
  await syncDirectory(path.dirname(unit.target))
  await ctx.onStep('unit-renamed', unit.key)
  const bytes = treeBytes(entries)
  await ctx.journal.append({ t: 'unit', unit: unit.key, files: files.length, bytes }, { sync: true })
  return { files: files.length, bytes, entries, skipped }
}

async function stage(unit: CopyUnit, staged: string, entries: TreeEntry[], ctx: CopyUnitContext): Promise<string[]> {
  await removeStrays(staged, entries)
  const journaled = new Map<string, { size: number; mtimeNs: string; ino: string }>()
  for (const line of ctx.journal.all('file')) if (line.unit === unit.key) journaled.set(line.path, line)
  const skipped: string[] = []
  const files: TreeEntry[] = []
  for (const entry of entries) {
    const target = path.join(staged, entry.path)
    if (entry.type === 'dir') await mkdir(target, { recursive: true })
    else if (entry.type === 'file') files.push(entry)
    else if (entry.type === 'symlink') {
      await rm(target, { force: true })
      await copySymlink(target, entry)
    } else skipped.push(entry.path)
  }
  const batches = inBatches(files)
  let next = 0
  let failure: { error: unknown } | null = null
  const worker = async () => {
    while (next < batches.length && failure === null) {
      const batch = batches[next++] as TreeEntry[]
      const toCopy: TreeEntry[] = []
      for (const entry of batch) {
        const record = journaled.get(entry.path)
        const source = path.join(unit.source, entry.path)
        if (record !== undefined && (await stillStaged(source, path.join(staged, entry.path), entry, record))) {
          ctx.onBytes(entry.size)
        } else {
          toCopy.push(entry)
        }
      }
      if (toCopy.length === 0) continue
      const { copied, error } = await copyFilesVerified(
        toCopy.map((entry) => ({
          source: path.join(unit.source, entry.path),
          target: path.join(staged, entry.path),
          expected: entry,
        })),
        { replace: true },
      )
      const done = toCopy.slice(0, copied.length)
      await ctx.journal.appendMany(
        done.map((entry) => ({
          t: 'file',
          unit: unit.key,
          path: entry.path,
          size: entry.size,
          mtimeNs: String(entry.mtimeNs),
          ino: String(entry.ino),
        })),
      )
      for (const entry of done) {
        ctx.onBytes(entry.size)
        await ctx.onStep('file-copied', `${unit.key}/${entry.path}`)
      }
      if (error !== undefined) throw error
    }
  }
  // Every batch in flight ends before a failure is thrown: a retry must not race the copies of this attempt.
  await Promise.all(
    Array.from({ length: PARALLEL_BATCHES }, () =>
      worker().catch((error: unknown) => {
        failure ??= { error }
      }),
    ),
  )
  if (failure !== null) throw (failure as { error: unknown }).error
  // Folders last and deepest first: creating their contents changed their times.
  for (const entry of [...entries].reverse()) {
    if (entry.type === 'dir') await applyMetadata(path.join(staged, entry.path), entry)
  }
  return skipped
}

/** Consecutive files grouped up to BATCH_FILES or BATCH_BYTES; a file as large as that travels alone. */
function inBatches(files: TreeEntry[]): TreeEntry[][] {
  const batches: TreeEntry[][] = []
  let current: TreeEntry[] = []
  let bytes = 0
  for (const file of files) {
    if (current.length > 0 && (current.length >= BATCH_FILES || bytes + file.size > BATCH_BYTES)) {
      batches.push(current)
      current = []
      bytes = 0
    }
    current.push(file)
    bytes += file.size
  }
  if (current.length > 0) batches.push(current)
  return batches
}

/**
 * A file staged by an earlier run counts only if its source is unchanged and
 * the staged bytes still equal the source's (a power cut may have cut a copy
 * that was journaled but not yet fsynced).
 */
async function stillStaged(
  source: string,
  target: string,
  entry: TreeEntry,
  record: { size: number; mtimeNs: string; ino: string },
): Promise<boolean> {
  if (record.size !== entry.size || record.mtimeNs !== String(entry.mtimeNs) || record.ino !== String(entry.ino)) {
    return false
  }
  try {
    return await sameContent(source, target)
  } catch {
    return false
  }
}

/** Remove what an earlier attempt staged that the source no longer has (or has as another type). */
async function removeStrays(staged: string, entries: TreeEntry[]): Promise<void> {
  const existing = await lstat(staged).catch(() => null)
  if (existing === null) return
  const root = entries[0] as TreeEntry
  if (!existing.isDirectory() || root.type !== 'dir') {
    await rm(staged, { recursive: true, force: true })
    return
  }
  const wanted = new Map(entries.map((entry) => [entry.path, entry.type]))
  for (const entry of (await walkTree(staged)).reverse()) {
    if (entry.path !== '' && wanted.get(entry.path) !== entry.type) {
      await rm(path.join(staged, entry.path), { recursive: true, force: true })
    }
  }
}

/** fsync every staged folder, deepest first, so the names in them survive a power cut before the rename. */
async function syncTree(staged: string, entries: TreeEntry[]): Promise<void> {
  for (const entry of [...entries].reverse()) {
    if (entry.type === 'dir') await syncDirectory(path.join(staged, entry.path))
  }
}

/** The first path whose entry differs between two walks of the same tree (folder times aside), or null. */
export function changedEntry(before: TreeEntry[], after: TreeEntry[]): string | null {
  if (before.length !== after.length) {
    const seen = new Set(before.map((entry) => entry.path))
    const added = after.find((entry) => !seen.has(entry.path))
    return added?.path ?? before.find((entry) => !after.some((other) => other.path === entry.path))?.path ?? ''
  }
  for (let i = 0; i < before.length; i++) {
    const a = before[i] as TreeEntry
    const b = after[i] as TreeEntry
    // A folder's times change when anything inside changes; that is caught on the entries themselves.
    if (a.type === 'dir' && b.type === 'dir' && a.path === b.path) continue
    if (!sameStat(a, b)) return a.path
  }
  return null
}

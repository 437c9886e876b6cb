import { createHash } from 'node:crypto'
import { lstat, mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { BerthError } from '../core/errors.js'
import { syncDirectory } from '../core/fsync.js'
import { applyMetadata, copyFileVerified, copySymlink, sameContent, syncFiles } from '../transfer/copy-verified.js'
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
/** Files in flight per unit: enough to keep every file worker busy while others wait on the disk. */
const PARALLEL_FILES = 8

/**
 * Copy a unit into a staging folder on the target's disk, verify every file
 * (each chunk read back from the copy and compared with the source's), check
 * that the source did not change meanwhile, fsync the staged files and
 * folders together, then rename the unit into place in one step and journal
 * it. Files already staged and journaled by an earlier, interrupted run are
 * compared with their source again and kept instead of copied again. The
 * target must not exist.
 *
 * @example
 *   await copyUnit({ key: 'workspace/abc', source: '/old/workspace/abc', target: '/new/workspace/abc' }, ctx)
 */
export async function copyUnit(unit: CopyUnit, ctx: CopyUnitContext): Promise<UnitCopyResult> {
  const staged = path.join(ctx.stagingDir, createHash('sha256').update(unit.key).digest('hex').slice(0, 24))
  await mkdir(ctx.stagingDir, { recursive: true })
  let entries: TreeEntry[] = []
  let skipped: string[] = []
  for (let attempt = 1; ; attempt++) {
    entries = await walkTree(unit.source)
    skipped = await stage(unit, staged, entries, ctx)
    await ctx.onStep('unit-staged', unit.key)
    const again = await walkTree(unit.source)
    const changed = changedEntry(entries, again)
    if (changed === null) break
    if (attempt === MAX_ATTEMPTS) {
      throw new BerthError(
        'SOURCE_CHANGED',
        `${path.join(unit.source, changed)} kept changing while it was copied (${MAX_ATTEMPTS} attempts), ` +
          `so ${unit.source} was not migrated. Stop whatever writes to it and run the migration again.`,
        { status: 409, details: { unit: unit.key, path: changed } },
      )
    }
  }
  // Durable before the rename makes the unit visible: files together, then folders deepest first.
  await syncFiles(entries.filter((entry) => entry.type === 'file').map((entry) => path.join(staged, entry.path)))
  await syncTree(staged, entries)
  await mkdir(path.dirname(unit.target), { recursive: true })
  await rename(staged, unit.target)
  await syncDirectory(path.dirname(unit.target))
  await ctx.onStep('unit-renamed', unit.key)
  const files = entries.filter((entry) => entry.type === 'file').length
  const bytes = treeBytes(entries)
  await ctx.journal.append({ t: 'unit', unit: unit.key, files, bytes }, { sync: true })
  return { files, bytes, entries, skipped }
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
  let next = 0
  const worker = async () => {
    while (next < files.length) {
      const entry = files[next++] as TreeEntry
      const target = path.join(staged, entry.path)
      const record = journaled.get(entry.path)
      if (record !== undefined && (await stillStaged(path.join(unit.source, entry.path), target, entry, record))) {
        ctx.onBytes(entry.size)
        continue
      }
      await rm(target, { force: true })
      const copied = await copyFileVerified(path.join(unit.source, entry.path), target, entry, { sync: false })
      await ctx.journal.append({
        t: 'file',
        unit: unit.key,
        path: entry.path,
        size: copied.size,
        mtimeNs: String(entry.mtimeNs),
        ino: String(entry.ino),
      })
      ctx.onBytes(copied.size)
      await ctx.onStep('file-copied', `${unit.key}/${entry.path}`)
    }
  }
  await Promise.all(Array.from({ length: PARALLEL_FILES }, worker))
  // Folders last and deepest first: creating their contents changed their times.
  for (const entry of [...entries].reverse()) {
    if (entry.type === 'dir') await applyMetadata(path.join(staged, entry.path), entry)
  }
  return skipped
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

import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { processAlive } from '../../core/process-alive.js'
import type { LocalFolder, WorkspaceEntry, WorkspaceKey, WorkspaceStorage } from '../workspace-storage.js'

/** What a scratch folder needs from the S3 storage beyond the interface. */
export interface ScratchSource extends Pick<WorkspaceStorage, 'list' | 'read' | 'write' | 'remove'> {
  makeFolder(key: WorkspaceKey, path: string): Promise<void>
}

/** Downloads (and later uploads) at once: enough to hide latency without flooding the endpoint. */
const PARALLEL = 8

interface Known {
  size: number
  mtimeMs: number
  sha256: string
}

interface LocalTree {
  files: Map<string, { size: number; mtimeMs: number }>
  folders: Set<string>
  /** Symlinks found: never uploaded (S3 has none, and one may point outside the workspace). */
  symlinks: string[]
}

/**
 * A remote workspace copied into a local folder for what needs a real one
 * (the shell, the browser). `sync()` sends back what changed since the copy
 * or the last sync: a file whose size or mtime moved and whose SHA-256
 * differs is uploaded, a file or folder gone locally is removed, a new empty
 * folder gets its marker. Symlinks are never uploaded. `release()` syncs and
 * removes the copy.
 *
 * The copy lives under `scratchDir` (the data root's scratch folder), and
 * is at most as large as the workspace, which the quota bounds.
 */
export async function materialize(
  source: ScratchSource,
  key: WorkspaceKey,
  scratchDir: string,
): Promise<LocalFolder & { symlinksSkipped(): string[] }> {
  await mkdir(scratchDir, { recursive: true })
  // `<scratch>/<key>-<pid>-<random>/<key>`: the folder carries the workspace's own name, so the tools' door
  // (Workspaces, which finds a workspace as `<root>/<key>`) finds it under its parent.
  const holder = await mkdtemp(path.join(scratchDir, `${key}-${process.pid}-`))
  const dir = path.join(holder, key)
  await mkdir(dir)
  const known = new Map<string, Known>()
  let knownFolders = new Set<string>()
  let skipped: string[] = []
  try {
    const entries: WorkspaceEntry[] = []
    for await (const entry of source.list(key)) entries.push(entry)
    for (const entry of entries)
      if (entry.type === 'directory') await mkdir(path.join(dir, entry.path), { recursive: true })
    knownFolders = new Set(entries.filter((entry) => entry.type === 'directory').map((entry) => entry.path))
    await inParallel(
      entries.filter((entry) => entry.type === 'file'),
      async (entry) => {
        const target = path.join(dir, entry.path)
        await mkdir(path.dirname(target), { recursive: true })
        const { body } = await source.read(key, entry.path)
        const hash = createHash('sha256')
        await pipeline(body, hashing(hash), createWriteStream(target, { flags: 'wx' }))
        const stats = await lstat(target)
        known.set(entry.path, { size: stats.size, mtimeMs: stats.mtimeMs, sha256: hash.digest('hex') })
      },
    )
  } catch (error) {
    await rm(holder, { recursive: true, force: true })
    throw error
  }

  let released = false
  let syncing: Promise<void> = Promise.resolve()

  const syncNow = async () => {
    if (released) return
    const tree = await walk(dir)
    skipped = tree.symlinks
    // Folders gone locally: remove each topmost one with everything in it.
    const goneFolders = topmost([...knownFolders].filter((folder) => !tree.folders.has(folder)))
    for (const folder of goneFolders) await source.remove(key, folder)
    const underGone = (p: string) => goneFolders.some((folder) => p.startsWith(`${folder}/`))
    const goneFiles = [...known.keys()].filter((p) => !tree.files.has(p) && !underGone(p))
    await inParallel(goneFiles, (p) => source.remove(key, p))
    for (const p of [...known.keys()]) if (!tree.files.has(p)) known.delete(p)

    const changed: [string, Known][] = []
    await inParallel([...tree.files], async ([p, stats]) => {
      const before = known.get(p)
      if (before && before.size === stats.size && before.mtimeMs === stats.mtimeMs) return
      const sha256 = await fileSha256(path.join(dir, p))
      if (before && before.size === stats.size && before.sha256 === sha256) {
        known.set(p, { ...before, mtimeMs: stats.mtimeMs })
        return
      }
      changed.push([p, { size: stats.size, mtimeMs: stats.mtimeMs, sha256 }])
    })
    // Recorded only once uploaded, so a failed upload is tried again by the next sync.
    await inParallel(changed, async ([p, state]) => {
      await source.write(key, p, createReadStream(path.join(dir, p)))
      known.set(p, state)
    })
    // New empty folders need a marker to exist remotely; folders with files exist through them.
    const withFiles = new Set<string>()
    for (const p of tree.files.keys()) {
      for (let parent = path.posix.dirname(p); parent !== '.'; parent = path.posix.dirname(parent))
        withFiles.add(parent)
    }
    for (const folder of tree.folders) {
      if (
        !knownFolders.has(folder) &&
        !withFiles.has(folder) &&
        ![...tree.folders].some((f) => f.startsWith(`${folder}/`))
      ) {
        await source.makeFolder(key, folder)
      }
    }
    knownFolders = tree.folders
  }

  const sync = () => {
    // One sync at a time; a second caller waits for the first, then runs its own.
    syncing = syncing.then(syncNow, syncNow)
    return syncing
  }

  return {
    dir,
    sync,
    async release() {
      if (released) return
      // A failed sync keeps the copy (and throws): the changes in it are the only ones there are.
      await sync()
      released = true
      await rm(holder, { recursive: true, force: true })
    },
    symlinksSkipped: () => [...skipped],
  }
}

// `<key>-<pid>-<random>` (a scratch copy) or `.berth-spool-<pid>-<random>` (an upload on its way).
const OWNED_BY = /^(?:\.berth-spool-|.+-)(\d+)-[^-]+$/

/**
 * Remove scratch copies and spooled uploads left by processes that are gone
 * (a SIGKILL gives them no chance to clean up; a newer owner of the run has
 * taken over from what they had synced). Those of live processes stay.
 */
export async function removeStaleScratch(scratchDir: string): Promise<string[]> {
  const removed: string[] = []
  for (const name of await readdir(scratchDir).catch(() => [] as string[])) {
    const pid = Number(OWNED_BY.exec(name)?.[1] ?? Number.NaN)
    if (!Number.isInteger(pid) || processAlive(pid)) continue
    await rm(path.join(scratchDir, name), { recursive: true, force: true })
    removed.push(name)
  }
  return removed
}

async function walk(root: string): Promise<LocalTree> {
  const tree: LocalTree = { files: new Map(), folders: new Set(), symlinks: [] }
  const pending = ['']
  while (pending.length > 0) {
    const current = pending.pop() as string
    for (const entry of await readdir(path.join(root, current), { withFileTypes: true })) {
      const rel = current === '' ? entry.name : `${current}/${entry.name}`
      if (entry.isSymbolicLink()) tree.symlinks.push(rel)
      else if (entry.isDirectory()) {
        tree.folders.add(rel)
        pending.push(rel)
      } else if (entry.isFile()) {
        const stats = await lstat(path.join(root, rel))
        tree.files.set(rel, { size: stats.size, mtimeMs: stats.mtimeMs })
      }
    }
  }
  return tree
}

function topmost(folders: string[]): string[] {
  const sorted = [...folders].sort()
  return sorted.filter((folder) => !sorted.some((other) => other !== folder && folder.startsWith(`${other}/`)))
}

function hashing(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk, _encoding, done) {
      hash.update(chunk)
      done(null, chunk)
    },
  })
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function inParallel<T>(items: Iterable<T>, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items]
  const workers = Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item)
  })
  await Promise.all(workers)
}

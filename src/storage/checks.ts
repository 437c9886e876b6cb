import { randomUUID } from 'node:crypto'
import { readFileSync, realpathSync } from 'node:fs'
import { mkdir, open, readFile, stat, statfs, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'

import { BerthError } from '../core/errors.js'
import { parseMountinfo } from './mountinfo.js'

/**
 * Make sure `root` exists (created with `mkdir -p` when missing) and that this
 * process can really create files in it. "Really": we create and remove a
 * probe file rather than trusting permission bits, which root bypasses and
 * which say nothing about read-only mounts.
 *
 * Never falls back to another folder: a root that was chosen but is unusable
 * stops the server (system invariant 4).
 *
 * @example
 *   await ensureWritableRoot('/var/data') // throws BerthError('ROOT_NOT_WRITABLE') with the fix
 */
export async function ensureWritableRoot(root: string): Promise<void> {
  const abs = resolve(root)
  const existing = await statOrNull(abs)
  if (existing !== null && !existing.isDirectory()) throw notADirectory(abs, abs)
  if (existing === null) {
    try {
      await mkdir(abs, { recursive: true })
    } catch (err) {
      const code = errnoCode(err)
      const ancestor = await nearestExisting(abs)
      if (code === 'ENOTDIR' || code === 'EEXIST') throw notADirectory(abs, ancestor)
      throw await notWritable(abs, ancestor, err)
    }
  }
  const probe = join(abs, `.berth-write-probe-${process.pid}-${randomUUID()}`)
  try {
    await (await open(probe, 'wx')).close()
  } catch (err) {
    throw await notWritable(abs, abs, err)
  }
  await unlink(probe)
}

/**
 * Write a uniquely named canary file, fsync it and its directory, read it
 * back, compare and remove it. Catches roots that accept a create but lose or
 * mangle data (full disks, broken network mounts, FUSE oddities) before any
 * real data is trusted to them.
 *
 * @example
 *   await writeCanary(paths.root) // throws BerthError('ROOT_CANARY_FAILED') naming the path
 */
export async function writeCanary(root: string): Promise<void> {
  const abs = resolve(root)
  const file = join(abs, `.berth-canary-${process.pid}-${randomUUID()}`)
  // Non-ASCII on purpose: it proves bytes round-trip, not just ASCII.
  const content = `berth canary ${randomUUID()} ${new Date().toISOString()} é 日本語 🚢\n`
  let created = false
  try {
    const handle = await open(file, 'wx')
    created = true
    try {
      await handle.writeFile(content, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
    await syncDirectory(abs)
    const back = await readFile(file, 'utf8')
    if (back !== content) {
      throw new Error(
        `read back ${Buffer.byteLength(back)} bytes that differ from the ${Buffer.byteLength(content)} written`,
      )
    }
    await unlink(file)
    created = false
    await syncDirectory(abs)
  } catch (err) {
    if (created) await unlink(file).catch(() => undefined)
    const reason = errnoCode(err) === 'ENOSPC' ? 'the disk is full' : err instanceof Error ? err.message : String(err)
    throw new BerthError(
      'ROOT_CANARY_FAILED',
      `Could not write, sync and read back a test file in the data root ${abs}: ${reason}. ` +
        `berth will not store data where it cannot verify it. Check the disk (free space, mount, permissions) ` +
        `or choose another root with --data-dir or BERTH_DATA_DIR.`,
      { cause: err, details: { path: abs, file } },
    )
  }
}

/** The mount that holds a path, as the kernel sees it. */
export interface MountInfo {
  mountPoint: string
  fsType: string
  source: string
  /** The path itself is a mount point (not just a folder inside one). */
  isMountPoint: boolean
}

/**
 * Find the mount holding `path` in `/proc/self/mountinfo` (text injectable
 * for tests). The path is resolved through symlinks (its nearest existing
 * ancestor when it does not exist yet); the visible mount with the longest
 * matching mount point wins, and a later mount on the same or a parent mount
 * point hides earlier ones (stacked mounts). Returns null off Linux or when
 * mountinfo cannot be read.
 *
 * @example
 *   findMount('/var/data') // { mountPoint: '/var/data', fsType: 'ext4', source: '/dev/sdb', isMountPoint: true }
 */
export function findMount(path: string, mountinfoText?: string): MountInfo | null {
  const text = mountinfoText ?? readProcMountinfo()
  if (text === null) return null
  const entries = parseMountinfo(text)
  const target = realpathLoose(resolve(path))
  let best: (typeof entries)[number] | undefined
  entries.forEach((entry, i) => {
    if (!isWithin(target, entry.mountPoint)) return
    const hidden = entries.slice(i + 1).some((later) => isWithin(entry.mountPoint, later.mountPoint))
    if (hidden) return
    if (best === undefined || entry.mountPoint.length >= best.mountPoint.length) best = entry
  })
  if (best === undefined) return null
  return { ...best, isMountPoint: best.mountPoint === target }
}

/** Whether data under a root survives a restart/redeploy, and what to tell the user. */
export interface Durability {
  persistent: boolean
  /** Plain words, each a full sentence saying what will happen and what to do. */
  warnings: string[]
  fsType: string | null
  mountPoint: string | null
  isMountPoint: boolean
}

/** Filesystems that live in memory or in a container's own layer: gone on restart or redeploy. */
const EPHEMERAL_FS = new Set(['tmpfs', 'ramfs', 'overlay', 'aufs'])
/** SQLite's WAL needs shared-memory locking that these do not provide reliably. */
const NETWORK_FS = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'fuse.sshfs'])

/**
 * Judge whether `root` will survive. Ephemeral when it sits on tmpfs, ramfs or
 * a container layer (overlay, aufs), or when a mount was expected
 * (`expectMount`: the root is `/var/data` or a platform volume) and the root
 * is a plain folder instead. Network filesystems stay "persistent" but warn,
 * because SQLite in WAL mode must not run on them.
 *
 * @example
 *   const d = assessDurability(root, { expectMount: source === 'persistent-default' })
 *   for (const w of d.warnings) log.warn(w)
 */
export function assessDurability(root: string, opts: { expectMount: boolean; mountinfoText?: string }): Durability {
  const abs = resolve(root)
  const mount = findMount(abs, opts.mountinfoText)
  if (mount === null) {
    // Off Linux we cannot tell; say nothing rather than warn on every laptop.
    return { persistent: true, warnings: [], fsType: null, mountPoint: null, isMountPoint: false }
  }
  const warnings: string[] = []
  let persistent = true
  const on = `${mount.fsType} mounted at ${mount.mountPoint}`
  if (opts.expectMount && !mount.isMountPoint) {
    persistent = false
    warnings.push(
      `The data root ${abs} is not a mount point but a plain folder on ${on}, so on a hosting platform ` +
        `everything berth stores there (sessions, files, logs) will be lost on the next redeploy. ` +
        `Attach a persistent disk at ${abs}; if this machine's disk is itself persistent (a VPS or laptop), ` +
        `choose the folder explicitly with --data-dir or BERTH_DATA_DIR to silence this warning.`,
    )
  } else if (EPHEMERAL_FS.has(mount.fsType)) {
    persistent = false
    const what = mount.fsType === 'tmpfs' || mount.fsType === 'ramfs' ? 'memory' : "the container's own writable layer"
    warnings.push(
      `The data root ${abs} is on ${on}, which lives in ${what}: everything berth stores there ` +
        `(sessions, files, logs) will be lost when the machine or container restarts or is redeployed. ` +
        `Attach a persistent disk and point berth at it with --data-dir or BERTH_DATA_DIR.`,
    )
  }
  if (NETWORK_FS.has(mount.fsType)) {
    warnings.push(
      `The data root ${abs} is on a network filesystem (${on}), where SQLite's WAL mode cannot lock ` +
        `reliably and events.db can be corrupted. Put the data root on a local disk with --data-dir or BERTH_DATA_DIR.`,
    )
  }
  return { persistent, warnings, fsType: mount.fsType, mountPoint: mount.mountPoint, isMountPoint: mount.isMountPoint }
}

/**
 * Free and total space of the filesystem holding `path`, in bytes. "Free"
 * is what an unprivileged user may still use (statfs `bavail`).
 *
 * @example
 *   const { freeBytes } = await diskSpace(paths.root)
 */
export async function diskSpace(path: string): Promise<{ freeBytes: number; totalBytes: number }> {
  const s = await statfs(path)
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize }
}

// --- helpers ---------------------------------------------------------------

function readProcMountinfo(): string | null {
  if (process.platform !== 'linux') return null
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
  } catch {
    return null
  }
}

/** `child` equals `parent` or lies below it. */
function isWithin(child: string, parent: string): boolean {
  return parent === '/' || child === parent || child.startsWith(`${parent}/`)
}

/** realpath that tolerates a missing tail: resolve the nearest existing ancestor and re-append the rest. */
function realpathLoose(abs: string): string {
  const rest: string[] = []
  let current = abs
  for (;;) {
    try {
      return join(realpathSync(current), ...rest.reverse())
    } catch {
      const parent = dirname(current)
      if (parent === current) return abs
      rest.push(basename(current))
      current = parent
    }
  }
}

async function syncDirectory(dir: string): Promise<void> {
  // Directory fsync makes the create/unlink itself durable. Windows cannot open directories.
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function statOrNull(path: string) {
  try {
    return await stat(path)
  } catch (err) {
    const code = errnoCode(err)
    if (code === 'ENOENT') return null
    if (code === 'ENOTDIR') throw notADirectory(path, await nearestExisting(path))
    // Cannot even look at it (a parent is not searchable): same fix as not writable.
    throw await notWritable(path, await nearestExisting(path), err)
  }
}

async function nearestExisting(abs: string): Promise<string> {
  let current = abs
  for (;;) {
    try {
      await stat(current)
      return current
    } catch {
      const parent = dirname(current)
      if (parent === current) return current
      current = parent
    }
  }
}

function notADirectory(root: string, culprit: string): BerthError {
  const where =
    culprit === root ? `${root} exists but is not a directory` : `${culprit} is a file, so ${root} cannot be created`
  return new BerthError(
    'ROOT_NOT_A_DIRECTORY',
    `Cannot use the data root ${root}: ${where}. Remove or rename it, or choose another root with --data-dir or BERTH_DATA_DIR.`,
    { details: { path: root, culprit } },
  )
}

async function notWritable(root: string, checked: string, cause: unknown): Promise<BerthError> {
  const uid = process.getuid?.()
  const owner = await stat(checked).then(
    (s) => s.uid,
    () => undefined,
  )
  const code = errnoCode(cause)
  const who = uid === undefined ? 'this user' : `user id ${uid}`
  const owned = owner === undefined ? '' : ` (owned by user id ${owner})`
  let problem: string
  let fix: string
  if (code === 'EROFS') {
    problem = `${checked}${owned} is on a read-only file system`
    fix = 'Mount it read-write'
  } else if (code === 'ENOSPC') {
    problem = `the disk holding ${checked}${owned} is full`
    fix = 'Free some space'
  } else {
    problem = `${checked}${owned} is not writable by ${who}`
    // Never suggest chown -R on a parent such as /var: create the root itself and hand it over.
    const cmd = checked === root ? `chown -R ${uid} ${root}` : `mkdir -p ${root} && chown -R ${uid} ${root}`
    fix = uid === undefined ? `Give this user write access to ${root}` : `Run \`${cmd}\` as root (or with sudo)`
  }
  const created = checked === root ? '' : ` berth needs to create ${root} inside it.`
  // Always name the user: "works on my machine" permission bugs are about who runs the server.
  const running = uid === undefined || problem.includes(who) ? '' : ` berth runs as user id ${uid}.`
  return new BerthError(
    'ROOT_NOT_WRITABLE',
    `The data root ${root} cannot be used: ${problem}${code === undefined ? '' : ` (${code})`}.${created}${running} ` +
      `${fix}, or choose another root with --data-dir or BERTH_DATA_DIR. berth will not fall back to another folder.`,
    { cause, details: { path: root, checked, uid, owner, errno: code } },
  )
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined
}

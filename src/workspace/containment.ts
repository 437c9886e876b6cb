import { lstat, readlink, realpath } from 'node:fs/promises'
import path from 'node:path'
import { BerthError } from '../core/errors.js'

/**
 * The one door to the file system (system.md, invariant 3). Every path that
 * comes from a client, a tool or an archive is checked here twice: lexically
 * (no absolute paths, no `..`, no NUL or control characters) and against the
 * disk (no symlink whose real path leaves the base).
 */

// C0 controls (NUL included), DEL and C1 controls. They never belong in a file
// name and make logs and terminals lie about what was asked for.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/
// `C:\x`, `C:x` (drive-relative) and `\\server\share` all escape the base on
// Windows, and mean nothing sensible on POSIX, so they are refused everywhere.
const DRIVE_PREFIX = /^[A-Za-z]:/
const MAX_PATH_LENGTH = 4096
// Linux's own limit for symlink hops in one lookup (MAXSYMLINKS).
const MAX_SYMLINK_HOPS = 40

/**
 * Normalise a relative path that came from outside into a clean relative
 * POSIX path (`''` is the root itself).
 *
 * Backslashes count as separators; `.` segments and duplicate slashes are
 * dropped. Refused with `PATH_INVALID` (400): NUL bytes, control characters,
 * absolute paths (`/x`, `C:\x`, `\\server`), any `..` segment (even one that
 * would stay inside: there is no good reason to send one), and an empty
 * result unless `allowRoot` is set. Does NOT URL-decode: the HTTP edge decodes
 * exactly once, so `%2e%2e` here is a literal file name.
 *
 * @example
 *   normalizeRelativePath('uploaded_files//./a.txt') // 'uploaded_files/a.txt'
 *   normalizeRelativePath('a\\b.txt')                // 'a/b.txt'
 *   normalizeRelativePath('', { allowRoot: true })   // ''
 *   normalizeRelativePath('../etc/passwd')           // throws PATH_INVALID
 */
export function normalizeRelativePath(input: string, opts: { allowRoot?: boolean } = {}): string {
  if (typeof input !== 'string') throw invalid('Path must be a string', input)
  if (input.includes('\0')) throw invalid('Path contains a NUL byte', input)
  if (CONTROL_CHARS.test(input)) throw invalid('Path contains a control character', input)
  if (input.length > MAX_PATH_LENGTH) throw invalid(`Path is longer than ${MAX_PATH_LENGTH} characters`, input)

  const slashed = input.replaceAll('\\', '/')
  if (slashed.startsWith('/') || DRIVE_PREFIX.test(slashed)) {
    throw invalid('Path must be relative to the workspace, not absolute', input)
  }

  const segments = slashed.split('/').filter((s) => s !== '' && s !== '.')
  if (segments.includes('..')) throw invalid("Path must not contain '..'", input)
  if (segments.length === 0 && !opts.allowRoot) throw invalid('Path is empty', input)
  return segments.join('/')
}

/**
 * Resolve a client or tool path inside `base` (an absolute directory) and
 * return the absolute path under `base` (not its real path).
 *
 * After the lexical check, the path is walked on disk the way the kernel
 * would, following every symlink it meets (including dangling ones and
 * symlinks inside link targets). Where the walk reaches that does not exist
 * yet, the rest is appended as is. The result must lie inside
 * `realpath(base)`, otherwise `PATH_OUTSIDE_WORKSPACE` (403). A symlink that
 * points elsewhere inside the tree is fine, and so is a `base` that is itself
 * a symlink. A missing `base` is `WORKSPACE_NOT_FOUND` (404).
 *
 * The check is made at call time: a tool that can create symlinks could race
 * it, which is what the planned sandbox is for.
 *
 * @example
 *   await resolveInside('/data/workspace/abc', 'uploaded_files/a.txt')
 *   // '/data/workspace/abc/uploaded_files/a.txt'
 *   await resolveInside('/data/workspace/abc', 'link-to-etc/passwd')
 *   // throws PATH_OUTSIDE_WORKSPACE
 */
export async function resolveInside(
  base: string,
  relative: string,
  opts: { allowRoot?: boolean } = {},
): Promise<string> {
  if (!path.isAbsolute(base)) throw new TypeError(`resolveInside needs an absolute base, got ${base}`)
  const clean = normalizeRelativePath(relative, opts)
  const realBase = await realBaseOf(base)
  const landing = await walk(realBase, clean === '' ? [] : clean.split('/'), relative)
  if (!isInside(realBase, landing)) throw outside(relative)
  return path.join(path.resolve(base), clean)
}

/**
 * A session id that is safe as a single folder name: a UUID (any version,
 * any case) or `[A-Za-z0-9][A-Za-z0-9_-]{0,127}`. No dots, no slashes.
 *
 * @example
 *   isValidSessionId('3f2b8c9e-1d4a-4c6b-9e8f-0a1b2c3d4e5f') // true
 *   isValidSessionId('../etc')                               // false
 */
export function isValidSessionId(id: string): boolean {
  return typeof id === 'string' && (UUID.test(id) || SAFE_ID.test(id))
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/

/**
 * True when `target` is `dir` itself or below it. Separator-aware, unlike the
 * reference's bare `startsWith` (§9 item 1).
 *
 * @example
 *   isInside('/data/ws', '/data/ws/a')     // true
 *   isInside('/data/ws', '/data/ws-evil')  // false
 */
export function isInside(dir: string, target: string): boolean {
  const rel = path.relative(dir, target)
  // A sibling named `..foo` is inside; only `..` itself or `../x` climb out.
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))
}

async function realBaseOf(base: string): Promise<string> {
  try {
    return await realpath(base)
  } catch (err) {
    if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') {
      throw new BerthError('WORKSPACE_NOT_FOUND', `Workspace folder does not exist: ${base}`, {
        cause: err,
      })
    }
    throw err
  }
}

/**
 * Walk `segments` from the real directory `start`, following symlinks, and
 * return where the path lands. `..` can only come from a symlink's target;
 * since `current` is always a real path, its parent is the true parent.
 */
async function walk(start: string, segments: string[], asked: string): Promise<string> {
  let current = start
  const queue = [...segments]
  let hops = 0
  while (queue.length > 0) {
    const segment = queue.shift() as string
    if (segment === '' || segment === '.') continue
    if (segment === '..') {
      current = path.dirname(current)
      continue
    }
    const next = path.join(current, segment)
    const stats = await lstatOrNull(next)
    if (stats === null) {
      // The rest does not exist yet, so no symlink can hide in it, unless a
      // link target asks to climb back up through a missing folder: a path
      // no real lookup could take. Refuse rather than guess.
      if (queue.includes('..')) throw outside(asked)
      return path.join(next, ...queue)
    }
    if (!stats.isSymbolicLink()) {
      current = next
      continue
    }
    if (++hops > MAX_SYMLINK_HOPS) throw invalid('Too many levels of symbolic links', asked)
    const target = await readlink(next)
    if (path.isAbsolute(target)) current = path.parse(target).root
    queue.unshift(...target.split(path.sep))
  }
  return current
}

async function lstatOrNull(p: string) {
  try {
    return await lstat(p)
  } catch (err) {
    // ENOTDIR: a file was used as a folder; the path cannot exist.
    if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return null
    throw err
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code
}

function invalid(message: string, input: unknown): BerthError {
  return new BerthError('PATH_INVALID', `${message}: ${JSON.stringify(String(input))}`, {
    details: { path: String(input) },
  })
}

function outside(asked: string): BerthError {
  return new BerthError('PATH_OUTSIDE_WORKSPACE', `Path leads outside the workspace through a symlink: ${asked}`, {
    details: { path: asked },
  })
}

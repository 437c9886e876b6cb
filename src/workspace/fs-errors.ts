import { lstat, stat } from 'node:fs/promises'

/** The path is not there (or a parent is not a folder): a normal answer, not a failure. */
export function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/** `lstat`, or null when the path is gone. */
export async function lstatOrNull(path: string) {
  try {
    return await lstat(path)
  } catch (err) {
    if (isGone(err)) return null
    throw err
  }
}

/** True when `path` is a folder (a link to one counts); false when it is gone or something else. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory()
  } catch (err) {
    if (isGone(err)) return false
    throw err
  }
}

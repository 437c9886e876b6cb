import { lstat } from 'node:fs/promises'

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

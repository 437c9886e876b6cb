import { open } from 'node:fs/promises'

/**
 * fsync a folder so the names created or renamed in it survive a power cut.
 * Some file systems (and Windows) refuse it; the files themselves are
 * already synced then, so this only narrows a window.
 *
 * @example
 *   await rename(staged, final)
 *   await syncDirectory(path.dirname(final))
 */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } catch (error) {
    if (!['EINVAL', 'EISDIR', 'EPERM', 'EBADF'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error
  } finally {
    await handle.close()
  }
}

/** fsync an existing file by path. */
export async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

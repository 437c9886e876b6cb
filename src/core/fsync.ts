import { execFile } from 'node:child_process'
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

/**
 * Flush everything written to the file system that holds `dir`, in one
 * syncfs(2) through coreutils' `sync -f`: for a staged tree of thousands of
 * files that is one pass where an fdatasync per file asks the disk for a
 * flush each. Resolves false when it could not be done (not Linux, no
 * `sync -f`, or it failed): the caller then syncs file by file, which also
 * reports an I/O error on its own files.
 *
 * @example
 *   if (!(await syncFileSystem(staged))) await syncFiles(stagedFiles)
 */
export function syncFileSystem(dir: string): Promise<boolean> {
  if (process.platform !== 'linux') return Promise.resolve(false)
  return new Promise((resolve) => execFile('sync', ['-f', dir], (error) => resolve(error === null)))
}

/**
 * syncfs for one folder's file system, shared by concurrent callers: a call
 * made while a flush runs waits for the next one (the running one may have
 * started before the caller's writes), and every call made meanwhile shares
 * that next one. Each flush is a process spawn (about 15 ms of a busy event
 * loop in a large process), so callers that finish together pay for one.
 *
 * @example
 *   const flusher = new FileSystemFlusher('/var/data/.berth-migrate/x/staging')
 *   if (!(await flusher.flush())) await syncFiles(stagedFiles)
 */
export class FileSystemFlusher {
  private running: Promise<boolean> | null = null
  private next: Promise<boolean> | null = null

  constructor(
    private readonly dir: string,
    private readonly syncOnce: (dir: string) => Promise<boolean> = syncFileSystem,
  ) {}

  flush(): Promise<boolean> {
    if (this.running === null) return this.start()
    this.next ??= this.running.then(() => {
      this.next = null
      return this.start()
    })
    return this.next
  }

  private start(): Promise<boolean> {
    const run = this.syncOnce(this.dir).finally(() => {
      if (this.running === run) this.running = null
    })
    this.running = run
    return run
  }
}

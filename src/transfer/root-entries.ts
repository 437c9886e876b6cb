/**
 * Names directly under a data root that backups and migrations never copy:
 * the server's lock files (opening and closing the lock file in the server
 * process would silently drop its lock), SQLite's live sidecars (the
 * database itself goes through the backup API), probes, and the working
 * folders of migrations and restores in progress.
 *
 * @example
 *   isTransientRootEntry('.berth-server.lock') // true
 *   isTransientRootEntry('workspace')          // false
 */
export function isTransientRootEntry(name: string): boolean {
  return (
    TRANSIENT_NAMES.has(name) ||
    name.startsWith('.berth-server.') ||
    name.startsWith('.berth-canary-') ||
    name.startsWith('.berth-write-probe-') ||
    name.startsWith('.berth-restore-') ||
    name.startsWith('.berth-import-')
  )
}

const TRANSIENT_NAMES = new Set(['events.db-wal', 'events.db-shm', 'events.db-journal', '.berth-migrate'])

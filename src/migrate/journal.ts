import { open, readFile, truncate } from 'node:fs/promises'

/** One line of the migration journal. Each records a step that is complete and durable. */
export type JournalEntry =
  | { t: 'start'; source: string; target: string }
  /**
   * A file is in the staging copy of `unit`, verified; it is flushed to disk with the
   * whole unit before the rename, so a resume compares it with its source
   * again. (Journals of earlier builds also carry a `sha256`; it is ignored.)
   */
  | { t: 'file'; unit: string; path: string; size: number; mtimeNs: string; ino: string; sha256?: string }
  /**
   * Moves between backends (backend-migrate.ts): `unit-begin` before the
   * first write into a workspace, so a resume completes it rather than
   * finding it different; `object`: a file written to the target storage
   * and read back equal, from a source file of this size and ETag.
   */
  | { t: 'unit-begin'; unit: string }
  | { t: 'object'; unit: string; path: string; size: number; etag: string; sha256: string }
  /** `unit` was renamed into place (between backends: every file of it is verified at the target). */
  | { t: 'unit'; unit: string; files: number; bytes: number }
  | { t: 'session'; id: string; outcome: string }
  /** About to append a source log to the target log, which was `offset` bytes long. */
  | { t: 'logs-begin'; source: string; offset: number }
  | { t: 'logs-done'; source: string }
  | { t: 'move-begin'; unit: string }
  | { t: 'move-done'; unit: string }
  | { t: 'done' }

/**
 * An append-only JSON-lines journal under the target root, so a migration
 * killed at any instant knows on the next run what is already done. A torn
 * last line (killed mid-write) is ignored and cut off.
 *
 * Lines are not synced one by one: a `file` line only saves work on a
 * resume, which checks the staged file against its source again, while
 * lines that must survive a crash (`unit`, `logs-begin`) are fsynced after
 * what they record is durable.
 *
 * @example
 *   const journal = await Journal.open('/var/data/.berth-migrate/ab12/journal.jsonl')
 *   await journal.append({ t: 'unit', unit: 'workspace/abc', files: 3, bytes: 1024 }, { sync: true })
 */
export class Journal {
  private constructor(
    readonly file: string,
    readonly entries: JournalEntry[],
    private handle: Awaited<ReturnType<typeof open>> | null,
  ) {}

  static async open(file: string): Promise<Journal> {
    let text = ''
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1)
    if (complete.length !== text.length) await truncate(file, Buffer.byteLength(complete))
    const entries: JournalEntry[] = []
    for (const line of complete.split('\n')) {
      if (line.trim() === '') continue
      try {
        entries.push(JSON.parse(line) as JournalEntry)
      } catch {
        // A line that is not JSON cannot have been completed by us; ignore it.
      }
    }
    return new Journal(file, entries, await open(file, 'a'))
  }

  /** A journal kept in memory only (dry runs). */
  static inMemory(): Journal {
    return new Journal('', [], null)
  }

  async append(entry: JournalEntry, options: { sync?: boolean } = {}): Promise<void> {
    await this.appendMany([entry], options)
  }

  /** Several entries in one write. */
  async appendMany(entries: JournalEntry[], options: { sync?: boolean } = {}): Promise<void> {
    if (entries.length === 0) return
    this.entries.push(...entries)
    if (this.handle === null) return
    await this.handle.write(entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''))
    if (options.sync) await this.handle.sync()
  }

  /** Entries of one kind, in order. */
  all<T extends JournalEntry['t']>(type: T): Extract<JournalEntry, { t: T }>[] {
    return this.entries.filter((entry): entry is Extract<JournalEntry, { t: T }> => entry.t === type)
  }

  async close(): Promise<void> {
    await this.handle?.close()
    this.handle = null
  }
}

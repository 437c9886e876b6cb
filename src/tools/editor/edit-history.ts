/**
 * What `undo_edit` restores: the content of a file before each edit, or
 * `null` when the edit created it. Bounded (count and bytes, oldest dropped
 * first) because whole files are kept. Lives in the session's resources, so
 * it does not survive a restart; the files themselves always do.
 *
 * @example
 *   history.push('notes.md', previousText)
 *   history.pop('notes.md') // previousText, or undefined when there is nothing to undo
 */
export class EditHistory {
  private readonly stack: { path: string; content: string | null }[] = []
  private bytes = 0

  constructor(
    readonly maxEntries = 200,
    readonly maxChars = 32 * 1024 * 1024,
  ) {}

  push(path: string, content: string | null): void {
    this.stack.push({ path, content })
    this.bytes += content?.length ?? 0
    while (this.stack.length > 1 && (this.stack.length > this.maxEntries || this.bytes > this.maxChars)) {
      const dropped = this.stack.shift()
      this.bytes -= dropped?.content?.length ?? 0
    }
  }

  /** The content before the latest edit of `path`; `null` means the edit created the file; undefined: nothing to undo. */
  pop(path: string): string | null | undefined {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const entry = this.stack[i]
      if (entry?.path !== path) continue
      this.stack.splice(i, 1)
      this.bytes -= entry.content?.length ?? 0
      return entry.content
    }
    return undefined
  }
}

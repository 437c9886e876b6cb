import { type FileHandle, open, readFile } from 'node:fs/promises'
import path from 'node:path'
import { syncDirectory } from '../core/fsync.js'

/**
 * An append-only JSON-lines file whose every line is durable when `append`
 * resolves: one `write` of the whole line (O_APPEND), then `fdatasync`.
 * Appends are serialised, so lines never interleave. A line cut short by a
 * crash (the kernel may stop a write between pages on SIGKILL, a power cut
 * may lose its end) is left as it is, never deleted; the next append starts
 * on a fresh line so the damage stays on one line, which `readJsonl` skips.
 *
 * @example
 *   const log = await JsonlAppender.open('/data/eval/run-1/results.jsonl')
 *   await log.append({ task_id: 't1', correct: true })
 *   await log.close()
 */
export class JsonlAppender {
  private queue: Promise<void> = Promise.resolve()

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    private endsMidLine: boolean,
  ) {}

  static async open(file: string): Promise<JsonlAppender> {
    const handle = await open(file, 'a+')
    try {
      const { size } = await handle.stat()
      let endsMidLine = false
      if (size > 0) {
        const last = Buffer.alloc(1)
        await handle.read(last, 0, 1, size - 1)
        endsMidLine = last[0] !== 0x0a
      } else {
        // A new file: make its name durable too.
        await syncDirectory(path.dirname(file))
      }
      return new JsonlAppender(file, handle, endsMidLine)
    } catch (error) {
      await handle.close()
      throw error
    }
  }

  append(record: unknown): Promise<void> {
    const next = this.queue.then(() => this.write(record))
    // A failed append fails its caller; later appends still run.
    this.queue = next.catch(() => {})
    return next
  }

  async close(): Promise<void> {
    await this.queue
    await this.handle.close()
  }

  private async write(record: unknown): Promise<void> {
    const text = `${this.endsMidLine ? '\n' : ''}${JSON.stringify(record)}\n`
    const bytes = Buffer.from(text, 'utf8')
    let offset = 0
    while (offset < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, offset, bytes.length - offset)
      offset += bytesWritten
      // Until the newline is out, a crash leaves this line torn: the next writer must start afresh.
      this.endsMidLine = offset < bytes.length
    }
    await this.handle.datasync()
  }
}

export interface JsonlLine {
  /** 1-based line number. */
  line: number
  value: unknown
}

/**
 * Every line of a JSON-lines file that parses; lines that do not (a torn
 * last line after a crash, a hand edit) are returned apart with their
 * number. A missing file reads as empty.
 *
 * @example
 *   const { lines, skipped } = await readJsonl('/data/eval/run-1/results.jsonl')
 */
export async function readJsonl(file: string): Promise<{ lines: JsonlLine[]; skipped: number[] }> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], skipped: [] }
    throw error
  }
  const lines: JsonlLine[] = []
  const skipped: number[] = []
  for (const [index, raw] of text.split('\n').entries()) {
    if (raw.trim().length === 0) continue
    try {
      lines.push({ line: index + 1, value: JSON.parse(raw) })
    } catch {
      skipped.push(index + 1)
    }
  }
  return { lines, skipped }
}

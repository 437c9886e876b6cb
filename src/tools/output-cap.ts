/**
 * Bounding what a tool hands back to the model: one tool must not flood the
 * context, and a shell that prints 100 MB must not hold 100 MB in memory.
 * Both keep the head and the tail (where errors and summaries usually are)
 * and say how much was left out.
 */

/** The longest output `runTool` passes on to the model, in characters (~7.5k tokens). */
export const DEFAULT_MAX_OUTPUT_CHARS = 30_000

/**
 * Cut `text` to at most `max` characters, keeping the head and the tail
 * around a marker that says how much was omitted.
 *
 * @example
 *   capOutput('a'.repeat(100), 60) // 'aaa…\n\n[... 52 characters omitted (100 in all) ...]\n\n…aaa' (60 chars)
 */
export function capOutput(text: string, max = DEFAULT_MAX_OUTPUT_CHARS): string {
  if (text.length <= max) return text
  // The marker's own length depends on the count; two passes settle it.
  let omitted = text.length - max
  let marker = omissionMarker(omitted, text.length)
  omitted = text.length - Math.max(0, max - marker.length)
  marker = omissionMarker(omitted, text.length)
  const room = Math.max(0, max - marker.length)
  const head = Math.ceil(room * 0.6)
  const tail = room - head
  return text.slice(0, head) + marker + (tail > 0 ? text.slice(text.length - tail) : '')
}

function omissionMarker(omitted: number, total: number): string {
  return `\n\n[... ${omitted.toLocaleString('en-US')} characters omitted (${total.toLocaleString('en-US')} in all) ...]\n\n`
}

/**
 * Collects streamed text in constant memory: the first `headChars`
 * characters, the last `tailChars`, and a count of everything in between.
 *
 * @example
 *   const buffer = new HeadTailBuffer(8_000, 20_000)
 *   child.stdout.on('data', (chunk) => buffer.push(decoder.write(chunk)))
 *   buffer.text() // head + '[... N characters omitted ...]' + tail
 */
export class HeadTailBuffer {
  private head = ''
  private tail = ''
  private total = 0

  constructor(
    readonly headChars: number,
    readonly tailChars: number,
  ) {}

  push(text: string): void {
    if (text.length === 0) return
    this.total += text.length
    let rest = text
    if (this.head.length < this.headChars) {
      const room = this.headChars - this.head.length
      this.head += rest.slice(0, room)
      rest = rest.slice(room)
    }
    if (rest.length === 0) return
    this.tail += rest
    // Trim lazily (at twice the size) so a stream of small chunks stays linear.
    if (this.tail.length > this.tailChars * 2) this.tail = flat(this.tail.slice(-this.tailChars))
  }

  /** Characters pushed so far. */
  get totalChars(): number {
    return this.total
  }

  /** Characters that `text()` leaves out. */
  get omittedChars(): number {
    return Math.max(0, this.total - this.headChars - this.tailChars)
  }

  text(): string {
    const tail = this.tail.length > this.tailChars ? this.tail.slice(-this.tailChars) : this.tail
    const omitted = this.total - this.head.length - tail.length
    if (omitted <= 0) return this.head + tail
    return this.head + omissionMarker(omitted, this.total) + tail
  }
}

// A slice of a V8 string can keep its whole parent alive; copying through a
// Buffer makes the kept tail independent of the (larger) string it came from.
function flat(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le')
}

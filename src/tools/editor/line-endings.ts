/**
 * A text file as the editor sees it: every line break read as `\n` (CRLF and
 * a lone CR too, as the reference editor's universal-newline read does), so
 * an `old_str` written with `\n` matches a Windows file and `view` shows no
 * stray `\r`. Unlike the reference, which wrote every edited file back with
 * `\n`, each existing break keeps the bytes it had; breaks an edit adds take
 * the file's most common ending.
 *
 * @example
 *   const doc = LineEndedText.parse('a\r\nb\r\n')
 *   doc.text                                        // 'a\nb\n'
 *   doc.replace(0, 1, 'x\ny').serialize()           // 'x\r\ny\r\nb\r\n'
 */
export class LineEndedText {
  private constructor(
    /** The content with every line break as `\n`. */
    readonly text: string,
    /** The ending every break has, or null when they differ (then `kinds` has one per break). */
    private readonly uniform: Ending | null,
    private readonly kinds: Uint8Array | null,
    /** The ending new breaks get: the most common one, or null while the file has no break at all. */
    private readonly common: Ending | null,
    /** How many line breaks `text` has. */
    private readonly breaks: number,
  ) {}

  /** Lines as the editor numbers them: one more than the breaks (a final break opens an empty last line). */
  get lineCount(): number {
    return this.breaks + 1
  }

  static parse(raw: string): LineEndedText {
    const counts = countEndings(raw)
    const total = counts[LF] + counts[CRLF] + counts[CR]
    if (total === 0) return new LineEndedText(raw, LF, null, null, 0)
    const common = mostCommon(counts)
    if (counts[common] === total) {
      const text = common === LF ? raw : raw.replaceAll(ENDING_TEXT[common], '\n')
      return new LineEndedText(text, common, null, common, total)
    }
    const kinds = new Uint8Array(total)
    let i = 0
    const text = raw.replace(BREAK, (ending) => {
      kinds[i++] = ending === '\n' ? LF : ending === '\r\n' ? CRLF : CR
      return '\n'
    })
    return new LineEndedText(text, null, kinds, common, total)
  }

  /**
   * Replace `removed` characters of `text` at `at` with `inserted`, whose
   * breaks may be written any way (`\n`, `\r\n`, `\r`). The breaks outside
   * the replaced span keep their endings.
   */
  replace(at: number, removed: number, inserted: string): LineEndedText {
    const added = LineEndedText.parse(inserted)
    // A file without breaks has no style of its own yet: it takes the new text's.
    const ending = this.common ?? added.common ?? LF
    const text = this.text.slice(0, at) + added.text + this.text.slice(at + removed)
    const gone = countBreaks(this.text, at, at + removed)
    const fresh = added.breaks
    const breaks = this.breaks - gone + fresh
    // Uniform stays uniform: new breaks take that same ending.
    if (this.kinds === null) return new LineEndedText(text, ending, null, this.common ?? added.common, breaks)
    const before = countBreaks(this.text, 0, at)
    const old = this.kinds
    const kinds = new Uint8Array(old.length - gone + fresh)
    kinds.set(old.subarray(0, before), 0)
    kinds.fill(ending, before, before + fresh)
    kinds.set(old.subarray(before + gone), before + fresh)
    return new LineEndedText(text, null, kinds, this.common, breaks)
  }

  /** The content with each break written as its ending. */
  serialize(): string {
    if (this.kinds === null) {
      const ending = this.uniform ?? LF
      return ending === LF ? this.text : this.text.replaceAll('\n', ENDING_TEXT[ending])
    }
    const parts: string[] = []
    let from = 0
    let i = 0
    for (let at = this.text.indexOf('\n'); at !== -1; at = this.text.indexOf('\n', at + 1)) {
      parts.push(this.text.slice(from, at), ENDING_TEXT[this.kinds[i++] as Ending])
      from = at + 1
    }
    parts.push(this.text.slice(from))
    return parts.join('')
  }
}

const LF = 0
const CRLF = 1
const CR = 2
type Ending = typeof LF | typeof CRLF | typeof CR
const ENDING_TEXT = ['\n', '\r\n', '\r'] as const
const BREAK = /\r\n|\r|\n/g

function countEndings(raw: string): [number, number, number] {
  const counts: [number, number, number] = [0, 0, 0]
  if (!raw.includes('\r')) {
    counts[LF] = countBreaks(raw, 0, raw.length)
    return counts
  }
  // indexOf scans natively; a per-character loop is several times slower on a 16 MiB file.
  for (let at = raw.indexOf('\r'); at !== -1; at = raw.indexOf('\r', at + 1)) {
    if (raw.charCodeAt(at + 1) === 10) counts[CRLF]++
    else counts[CR]++
  }
  counts[LF] = countBreaks(raw, 0, raw.length) - counts[CRLF]
  return counts
}

/** On a tie LF wins, then CRLF: the usual endings before the rare one. */
function mostCommon(counts: [number, number, number]): Ending {
  if (counts[LF] >= counts[CRLF] && counts[LF] >= counts[CR]) return LF
  return counts[CRLF] >= counts[CR] ? CRLF : CR
}

function countBreaks(text: string, from: number, to: number): number {
  let n = 0
  for (let at = text.indexOf('\n', from); at !== -1 && at < to; at = text.indexOf('\n', at + 1)) n++
  return n
}

import type { Readable } from 'node:stream'
import { Parser, type ReadEntry } from 'tar'

/**
 * The entries of a tar (optionally gzipped) stream, one at a time, with
 * backpressure: the next entry is parsed only after the caller has consumed
 * (or skipped) the current one. Corrupt archives throw. Paths are returned
 * as written in the archive: every caller must pass them through the
 * containment check before touching the disk.
 *
 * @example
 *   for await (const entry of readTarEntries(createReadStream(file))) {
 *     for await (const chunk of entry) hash.update(chunk)
 *   }
 */
export async function* readTarEntries(input: Readable): AsyncGenerator<ReadEntry> {
  // strict: any damage is an error rather than a warning; the ratio cap stops decompression bombs.
  const parser = new Parser({ strict: true, maxDecompressionRatio: 10_000 } as ConstructorParameters<typeof Parser>[0])
  const queue: ReadEntry[] = []
  let ended = false
  let failure: unknown
  let current: ReadEntry | null = null
  let wake: (() => void) | null = null
  const notify = () => {
    wake?.()
    wake = null
  }
  // An entry cut short (truncated or damaged input) must fail its reader rather than leave it waiting forever.
  // Minipass keeps an emitted error for readers that start waiting later.
  const abandon = (error: unknown) => {
    if (current !== null && !current.emittedEnd) current.emit('error', error)
  }
  parser.on('entry', (entry: ReadEntry) => {
    queue.push(entry)
    notify()
  })
  parser.on('end', () => {
    ended = true
    abandon(new Error('the archive ends in the middle of an entry'))
    notify()
  })
  const fail = (error: unknown) => {
    failure ??= error
    abandon(error)
    notify()
  }
  parser.on('error', fail)
  // Fed by hand rather than piped: zlib can throw synchronously from end() on a truncated
  // gzip stream, which a pipe would turn into an uncaught exception.
  let stopped = false
  let release: (() => void) | null = null
  const feeding = (async () => {
    try {
      for await (const chunk of input) {
        if (failure !== undefined || stopped) return
        if (!parser.write(chunk as Buffer)) {
          await new Promise<void>((resolve) => {
            release = resolve
            parser.once('drain', resolve)
          })
        }
      }
      if (!stopped) parser.end()
    } catch (error) {
      fail(error)
    }
  })().catch(() => undefined)
  try {
    for (;;) {
      if (failure !== undefined) throw failure
      const entry = queue.shift()
      if (entry !== undefined) {
        current = entry
        // Always listened to, so an error on an entry nobody is reading right now cannot crash the process.
        entry.on('error', () => undefined)
        yield entry
        // Whatever the caller left unread is skipped so parsing can go on.
        entry.resume()
        continue
      }
      if (ended) return
      await new Promise<void>((resolve) => {
        wake = resolve
      })
    }
  } finally {
    // The caller may stop early (a bad entry): unblock and end the feeding loop.
    stopped = true
    ;(release as (() => void) | null)?.()
    input.destroy()
    await feeding
  }
}

import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, stat, truncate } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { StepHook } from './copy-unit.js'
import type { Journal } from './journal.js'

export interface LogAppendResult {
  source: string
  /** `appended`: all of it; `appended-new-part`: what grew since an earlier migration; `already-present`: nothing to do. */
  outcome: 'appended' | 'appended-new-part' | 'already-present'
  bytes: number
}

/** The key of the marker line; the marker is a JSON log line so the target stays JSON lines. */
const MARKER_KEY = 'berthMigratedLogs'

interface Marker {
  source: string
  start: number
  end: number
  /** SHA-256 of the source's first `end` bytes. */
  sha256: string
}

/**
 * What appending `source` to `target` would do: the marker lines already in
 * `target` say which prefix of `source` (by SHA-256) an earlier migration
 * appended, so only what grew since is new.
 *
 * @example
 *   const { from, size } = await planLogAppend('/old/agent_logs.txt', '/var/data/agent_logs.txt')
 */
export async function planLogAppend(source: string, target: string): Promise<{ from: number; size: number }> {
  const size = (await stat(source)).size
  const markers = (await readMarkers(target)).filter((marker) => marker.end <= size).sort((a, b) => a.end - b.end)
  if (markers.length === 0) return { from: 0, size }
  // One pass over the source: the hash state is copied at each marker's end.
  const ends = new Map<number, string>()
  await hashPrefixes(source, [...new Set(markers.map((m) => m.end))], ends)
  let from = 0
  for (const marker of markers) if (ends.get(marker.end) === marker.sha256) from = Math.max(from, marker.end)
  return { from, size }
}

/**
 * Append the part of the source log not yet in the target, then a marker
 * line recording which source bytes (and their SHA-256) are now in, so a
 * rerun appends nothing. A `logs-begin` journal line with the target's
 * length comes first: a run killed mid-append cuts the target back to it
 * and starts the append again, so nothing is duplicated.
 *
 * @example
 *   await appendLog('/old/agent_logs.txt', '/var/data/agent_logs.txt', journal, onStep)
 */
export async function appendLog(
  source: string,
  target: string,
  journal: Journal,
  onStep: StepHook,
): Promise<LogAppendResult> {
  await undoUnfinishedAppend(source, target, journal)
  const { from, size } = await planLogAppend(source, target)
  if (from === size) return { source, outcome: 'already-present', bytes: 0 }
  const handle = await open(target, 'a+')
  try {
    const offset = (await handle.stat()).size
    await journal.append({ t: 'logs-begin', source, offset }, { sync: true })
    if (offset > 0 && !(await endsWithNewline(handle, offset))) await handle.write('\n')
    const hash = createHash('sha256')
    if (from > 0) await hashRange(source, 0, from, hash)
    let last = 0x0a
    for await (const chunk of createReadStream(source, { start: from, end: size - 1, highWaterMark: 1 << 20 })) {
      const buffer = chunk as Buffer
      hash.update(buffer)
      await handle.write(buffer)
      last = buffer[buffer.length - 1] ?? last
    }
    if (last !== 0x0a) await handle.write('\n')
    await onStep('logs-content-written', source)
    const mtime = (await stat(source)).mtimeMs
    const marker: Marker = { source, start: from, end: size, sha256: hash.digest('hex') }
    const line = {
      level: 30,
      // The source's own time, not the clock: a rerun writes the very same bytes.
      time: Math.floor(mtime),
      msg: `berth migrate appended ${source} (bytes ${from}-${size})`,
      [MARKER_KEY]: marker,
    }
    await handle.write(`${JSON.stringify(line)}\n`)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await journal.append({ t: 'logs-done', source })
  return { source, outcome: from === 0 ? 'appended' : 'appended-new-part', bytes: size - from }
}

async function undoUnfinishedAppend(source: string, target: string, journal: Journal): Promise<void> {
  const begun = journal.all('logs-begin').filter((entry) => entry.source === source)
  const done = journal.all('logs-done').filter((entry) => entry.source === source)
  const last = begun[begun.length - 1]
  if (last === undefined || done.length >= begun.length) return
  const size = await stat(target).then(
    (s) => s.size,
    () => 0,
  )
  if (size > last.offset) await truncate(target, last.offset)
  await journal.append({ t: 'logs-done', source })
}

async function readMarkers(target: string): Promise<Marker[]> {
  const markers: Marker[] = []
  let input: ReturnType<typeof createReadStream>
  try {
    await stat(target)
    input = createReadStream(target, { encoding: 'utf8' })
  } catch {
    return markers
  }
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (!line.includes(MARKER_KEY)) continue
    try {
      const marker = (JSON.parse(line) as Record<string, unknown>)[MARKER_KEY] as Marker | undefined
      if (marker && typeof marker.sha256 === 'string' && typeof marker.end === 'number') markers.push(marker)
    } catch {
      // A log line that merely mentions the key.
    }
  }
  return markers
}

async function hashPrefixes(file: string, ends: number[], out: Map<number, string>): Promise<void> {
  const sorted = [...ends].sort((a, b) => a - b)
  const hash = createHash('sha256')
  let position = 0
  for (const end of sorted) {
    if (end > position) await hashRange(file, position, end, hash)
    position = end
    out.set(end, hash.copy().digest('hex'))
  }
}

async function hashRange(file: string, start: number, end: number, hash: Hash): Promise<void> {
  if (end <= start) return
  for await (const chunk of createReadStream(file, { start, end: end - 1, highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer)
  }
}

async function endsWithNewline(handle: Awaited<ReturnType<typeof open>>, size: number): Promise<boolean> {
  const byte = Buffer.alloc(1)
  await handle.read(byte, 0, 1, size - 1)
  return byte[0] === 0x0a
}

import type { Readable } from 'node:stream'
import yauzl from 'yauzl'
import { BerthError } from '../../core/errors.js'
import { formatBytes } from '../../core/format-bytes.js'
import type { DocumentLimits } from './limits.js'

export interface ZipEntryInfo {
  name: string
  isDirectory: boolean
  /** As the archive declares it; the counting reader enforces it. */
  uncompressedSize: number
  compressedSize: number
  encrypted: boolean
  /** A Unix symlink stored in the archive (never followed or created). */
  symlink: boolean
}

/** Bytes still allowed to come out of one archive, shared by all its entries. */
export interface UnpackBudget {
  remaining: number
  readonly limit: number
  readonly archive: string
}

/**
 * The entries of a zip, read from its central directory without unpacking,
 * refused as a bomb (`FILE_TOO_LARGE`) when it has too many entries, declares
 * too many bytes, or compresses suspiciously well. Declared sizes can lie:
 * whatever is then unpacked is counted again by `readEntry`.
 *
 * @example
 *   const entries = await listZip('/ws/a.zip', 'a.zip', limits)
 */
export async function listZip(file: string, shownName: string, limits: DocumentLimits): Promise<ZipEntryInfo[]> {
  const zip = await openZip(file, shownName)
  const entries: ZipEntryInfo[] = []
  let declared = 0
  let compressed = 0
  try {
    if (zip.entryCount > limits.maxZipEntries) throw tooManyEntries(shownName, zip.entryCount, limits)
    for await (const entry of iterate(zip, shownName)) {
      entries.push(toInfo(entry))
      declared += entry.uncompressedSize
      compressed += entry.compressedSize
      if (entries.length > limits.maxZipEntries) throw tooManyEntries(shownName, entries.length, limits)
      if (declared > limits.maxZipUncompressedBytes) throw tooBig(shownName, limits.maxZipUncompressedBytes)
    }
  } finally {
    zip.close()
  }
  if (declared > limits.zipRatioFloorBytes && declared / Math.max(compressed, 1) > limits.maxZipRatio) {
    throw new BerthError(
      'FILE_TOO_LARGE',
      `${shownName} looks like a zip bomb: ${formatBytes(compressed)} would unpack to ${formatBytes(declared)} ` +
        `(more than ${limits.maxZipRatio} times its size). It was not unpacked.`,
      { details: { file: shownName, compressedBytes: compressed, uncompressedBytes: declared } },
    )
  }
  return entries
}

/**
 * Walk a zip's entries in archive order and hand each one, with a way to
 * open its data, to `visit`. Every byte read through `readEntry` counts
 * against `budget`.
 *
 * @example
 *   await walkZip(file, 'a.zip', async (entry, open) => { if (entry.name === 'x') text = (await readEntry(await open(), budget)).toString() })
 */
export async function walkZip(
  file: string,
  shownName: string,
  visit: (entry: ZipEntryInfo, open: () => Promise<Readable>) => Promise<void>,
): Promise<void> {
  const zip = await openZip(file, shownName)
  try {
    for await (const entry of iterate(zip, shownName)) {
      await visit(toInfo(entry), () => zip.openReadStreamPromise(entry))
    }
  } finally {
    zip.close()
  }
}

/**
 * Read a stream to its end, counting against `budget`: past it, the stream is
 * destroyed and `FILE_TOO_LARGE` thrown, whatever the archive declared.
 *
 * @example
 *   const bytes = await readEntry(await open(), budget)
 */
export async function readEntry(stream: Readable, budget: UnpackBudget): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of countBytes(stream, budget)) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/**
 * The chunks of `stream`, each counted against `budget` before it is passed on.
 *
 * @example
 *   await pipeline(countBytes(await open(), budget), createWriteStream(target))
 */
export async function* countBytes(stream: Readable, budget: UnpackBudget): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) {
      const buffer = chunk as Buffer
      budget.remaining -= buffer.byteLength
      if (budget.remaining < 0) throw tooBig(budget.archive, budget.limit)
      yield buffer
    }
  } catch (error) {
    stream.destroy()
    if (error instanceof BerthError) throw error
    throw invalid(budget.archive, error)
  }
}

/** @example const budget = unpackBudget('a.zip', limits) */
export function unpackBudget(archive: string, limits: DocumentLimits): UnpackBudget {
  return { remaining: limits.maxZipUncompressedBytes, limit: limits.maxZipUncompressedBytes, archive }
}

async function openZip(file: string, shownName: string): Promise<yauzl.ZipFile> {
  try {
    // strictFileNames off: backslashes become slashes; names with `..` or a leading `/` still fail here.
    return await yauzl.openPromise(file, { autoClose: false, strictFileNames: false })
  } catch (error) {
    throw invalid(shownName, error)
  }
}

async function* iterate(zip: yauzl.ZipFile, shownName: string): AsyncGenerator<yauzl.Entry> {
  while (true) {
    const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
      const onEntry = (value: yauzl.Entry) => done(value)
      const onEnd = () => done(null)
      const onError = (error: unknown) => {
        cleanup()
        reject(invalid(shownName, error))
      }
      const cleanup = () => {
        zip.off('entry', onEntry)
        zip.off('end', onEnd)
        zip.off('error', onError)
      }
      const done = (value: yauzl.Entry | null) => {
        cleanup()
        resolve(value)
      }
      zip.on('entry', onEntry)
      zip.on('end', onEnd)
      zip.on('error', onError)
      zip.readEntry()
    })
    if (entry === null) return
    yield entry
  }
}

function toInfo(entry: yauzl.Entry): ZipEntryInfo {
  const unixMode = (entry.externalFileAttributes >>> 16) & 0o170000
  return {
    name: entry.fileName,
    isDirectory: entry.fileName.endsWith('/'),
    uncompressedSize: entry.uncompressedSize,
    compressedSize: entry.compressedSize,
    encrypted: entry.isEncrypted(),
    symlink: unixMode === 0o120000,
  }
}

function tooManyEntries(shownName: string, count: number, limits: DocumentLimits): BerthError {
  return new BerthError(
    'FILE_TOO_LARGE',
    `${shownName} has ${count.toLocaleString('en-US')} entries, more than the ${limits.maxZipEntries.toLocaleString('en-US')} allowed. It was not unpacked.`,
    { details: { file: shownName, entries: count } },
  )
}

function tooBig(shownName: string, limit: number): BerthError {
  return new BerthError(
    'FILE_TOO_LARGE',
    `${shownName} unpacks to more than ${formatBytes(limit)}, the most allowed (a zip bomb, or simply too large). It was not read.`,
    { details: { file: shownName, limitBytes: limit } },
  )
}

function invalid(shownName: string, error: unknown): BerthError {
  const reason = error instanceof Error ? error.message : String(error)
  return new BerthError('ARCHIVE_INVALID', `${shownName} is not a readable zip archive: ${reason}`, {
    cause: error,
    details: { file: shownName },
  })
}

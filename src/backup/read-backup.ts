import { createReadStream } from 'node:fs'
import type { ReadEntry } from 'tar'
import { isBerthError } from '../core/errors.js'
import { type ExtractedEntry, extractEntry } from '../transfer/extract-entry.js'
import { readTarEntries } from '../transfer/tar-reader.js'
import { normalizeRelativePath } from '../workspace/containment.js'
import { BACKUP_VERSION, type BackupManifest, backupManifestSchema, MANIFEST_NAME } from './backup-manifest.js'

export interface BackupReading {
  /** Null when the archive has no readable manifest. */
  manifest: BackupManifest | null
  /** Every way the archive differs from its manifest, in words; empty when it is sound. */
  problems: string[]
}

type Seen = ExtractedEntry

const MAX_MANIFEST_BYTES = 256 * 1024 * 1024

/**
 * Read a backup archive from start to end, hashing every file, and compare
 * it with its manifest. With `into`, everything is also written below that
 * folder (every path through the containment check, symlinks created as
 * links and never followed out); with `databaseInto`, only `events.db` is.
 *
 * @example
 *   const { problems } = await readBackup('/var/data/backups/b.tar.gz')
 *   if (problems.length > 0) console.error(problems.join('\n'))
 */
export async function readBackup(
  file: string,
  options: { into?: string; databaseInto?: string } = {},
): Promise<BackupReading> {
  const problems: string[] = []
  const seen = new Map<string, Seen>()
  let manifestText: string | null = null
  try {
    for await (const entry of readTarEntries(createReadStream(file))) {
      const name = entry.path.replace(/\/+$/, '')
      if (name === MANIFEST_NAME && entry.type === 'File') {
        manifestText = await readText(entry)
        continue
      }
      let rel: string
      try {
        rel = normalizeRelativePath(name)
      } catch {
        problems.push(`unsafe path in the archive: ${JSON.stringify(entry.path)}`)
        continue
      }
      const into = options.into ?? (rel === 'events.db' ? options.databaseInto : undefined)
      seen.set(rel, await extractEntry(entry, rel, into))
    }
  } catch (error) {
    if (isBerthError(error, 'PATH_OUTSIDE_WORKSPACE') || isBerthError(error, 'DISK_FULL')) throw error
    problems.push(`the archive is damaged or truncated: ${error instanceof Error ? error.message : String(error)}`)
  }
  const manifest = parseManifest(manifestText, problems)
  if (manifest !== null) compare(manifest, seen, problems)
  return { manifest, problems }
}

async function readText(entry: ReadEntry): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of entry) {
    size += (chunk as Buffer).length
    if (size > MAX_MANIFEST_BYTES) throw new Error('the manifest is implausibly large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function parseManifest(text: string | null, problems: string[]): BackupManifest | null {
  if (text === null) {
    problems.push(`no ${MANIFEST_NAME} in the archive: it is truncated or not a berth backup`)
    return null
  }
  let parsed: ReturnType<typeof backupManifestSchema.safeParse>
  try {
    parsed = backupManifestSchema.safeParse(JSON.parse(text))
  } catch {
    problems.push(`${MANIFEST_NAME} is not valid JSON`)
    return null
  }
  if (!parsed.success) {
    problems.push(`${MANIFEST_NAME} is not a berth backup manifest: ${parsed.error.issues[0]?.message ?? ''}`)
    return null
  }
  if (parsed.data.version > BACKUP_VERSION) {
    problems.push(
      `the backup was written by a newer berth (format version ${parsed.data.version}; this one reads up to ${BACKUP_VERSION})`,
    )
    return null
  }
  return parsed.data
}

function compare(manifest: BackupManifest, seen: Map<string, Seen>, problems: string[]): void {
  const expected = new Map<string, Seen>()
  if (manifest.database !== null) {
    expected.set('events.db', { type: 'file', size: manifest.database.size, sha256: manifest.database.sha256 })
  }
  for (const entry of manifest.entries) {
    expected.set(
      entry.path,
      entry.type === 'file'
        ? { type: 'file', size: entry.size, sha256: entry.sha256 }
        : entry.type === 'symlink'
          ? { type: 'symlink', size: 0, target: entry.target }
          : { type: 'dir', size: 0 },
    )
  }
  for (const [name, want] of expected) {
    const got = seen.get(name)
    if (got === undefined) problems.push(`${name} is listed in the manifest but missing from the archive`)
    else if (got.type !== want.type)
      problems.push(`${name} is a ${got.type} in the archive, a ${want.type} in the manifest`)
    else if (want.type === 'symlink' && got.target !== want.target) problems.push(`${name} links elsewhere than listed`)
    else if (want.type === 'file' && (got.size !== want.size || got.sha256 !== want.sha256)) {
      problems.push(`${name} fails its checksum (${got.size} bytes read, ${want.size} listed)`)
    }
  }
  for (const name of seen.keys())
    if (!expected.has(name)) problems.push(`${name} is in the archive but not in the manifest`)
}

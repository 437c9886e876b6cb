import { createHash } from 'node:crypto'
import { mkdir, open, symlink } from 'node:fs/promises'
import path from 'node:path'
import type { ReadEntry } from 'tar'
import { resolveInside } from '../workspace/containment.js'
import { asDiskFull } from './copy-verified.js'

/** What an archive entry turned out to hold, for comparing with a manifest. */
export interface ExtractedEntry {
  type: 'file' | 'dir' | 'symlink' | 'unsupported'
  size: number
  sha256?: string
  target?: string
}

/**
 * Consume one tar entry, hashing a file's bytes; with `into`, also create it
 * at `rel` below that folder. `rel` must already be normalised; the final
 * path is resolved through the containment check, so an earlier symlink in
 * the archive can never lead a later entry out of `into`. Symlinks are
 * created as links, with their text as is. Files are fsynced.
 *
 * @example
 *   const seen = await extractEntry(entry, normalizeRelativePath(entry.path), stagingDir)
 */
export async function extractEntry(entry: ReadEntry, rel: string, into?: string): Promise<ExtractedEntry> {
  const target = into === undefined ? null : await resolveInside(into, rel, { allowRoot: true })
  if (entry.type === 'Directory') {
    if (target !== null) await mkdir(target, { recursive: true })
    return { type: 'dir', size: 0 }
  }
  if (entry.type === 'SymbolicLink') {
    if (target !== null) {
      await mkdir(path.dirname(target), { recursive: true })
      await symlink(entry.linkpath ?? '', target)
    }
    return { type: 'symlink', size: 0, target: entry.linkpath ?? '' }
  }
  if (entry.type !== 'File' && entry.type !== 'OldFile') {
    entry.resume()
    return { type: 'unsupported', size: 0 }
  }
  const hash = createHash('sha256')
  let size = 0
  if (target === null) {
    for await (const chunk of entry) {
      hash.update(chunk as Buffer)
      size += (chunk as Buffer).length
    }
    return { type: 'file', size, sha256: hash.digest('hex') }
  }
  await mkdir(path.dirname(target), { recursive: true })
  const handle = await open(target, 'wx', 0o600)
  try {
    for await (const chunk of entry) {
      hash.update(chunk as Buffer)
      size += (chunk as Buffer).length
      await handle.write(chunk as Buffer)
    }
    await handle.datasync()
  } catch (error) {
    throw asDiskFull(error, target)
  } finally {
    await handle.close()
  }
  return { type: 'file', size, sha256: hash.digest('hex') }
}

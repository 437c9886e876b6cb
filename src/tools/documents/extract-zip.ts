import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm, unlink } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { formatBytes } from '../../core/format-bytes.js'
import type { ToolContext } from '../tool.js'
import { resolveToolPath } from '../workspace-path.js'
import type { DocumentLimits } from './limits.js'
import { countBytes, listZip, unpackBudget, walkZip } from './zip.js'

/**
 * Unpack a zip from the workspace into `<name>_extracted/` beside it and
 * list what came out, so each member can be read with a further call.
 * Every member path goes through the workspace's one door
 * (`resolveToolPath`); symlinks and encrypted members are skipped and
 * named; bytes are counted as they are written, whatever the archive
 * declares. A failure part-way removes what this call wrote.
 *
 * @example
 *   await extractZip(context, '/ws/uploaded_files/data.zip', 'uploaded_files/data.zip', limits)
 *   // 'ZIP archive uploaded_files/data.zip: 2 files, 1.2 KB unpacked into uploaded_files/data_extracted/\n- ...'
 */
export async function extractZip(
  context: ToolContext,
  absolute: string,
  relative: string,
  limits: DocumentLimits,
): Promise<string> {
  const entries = await listZip(absolute, relative, limits)
  const declared = entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0)
  await context.workspaces.assertQuota(context.sessionId, declared)

  const parent = path.posix.dirname(relative)
  const base = path.posix.basename(relative).replace(/\.zip$/i, '')
  const targetDir = parent === '.' ? `${base}_extracted` : `${parent}/${base}_extracted`
  const budget = unpackBudget(relative, limits)
  const written: { path: string; size: number }[] = []
  const skipped: string[] = []
  const created: string[] = []
  try {
    await walkZip(absolute, relative, async (entry, open) => {
      if (entry.symlink) return void skipped.push(`${entry.name} (a symbolic link)`)
      if (entry.encrypted) return void skipped.push(`${entry.name} (encrypted)`)
      const target = await resolveToolPath(context, `${targetDir}/${entry.name}`)
      if (entry.isDirectory) {
        await mkdir(target.absolute, { recursive: true })
        return
      }
      await mkdir(path.dirname(target.absolute), { recursive: true })
      const temp = path.join(path.dirname(target.absolute), `.berth-tmp-${randomBytes(8).toString('hex')}`)
      const before = budget.remaining
      try {
        await pipeline(countBytes(await open(), budget), createWriteStream(temp, { flags: 'wx' }))
        await rename(temp, target.absolute)
      } catch (error) {
        await unlink(temp).catch(() => undefined)
        throw error
      }
      created.push(target.absolute)
      written.push({ path: target.relative, size: before - budget.remaining })
    })
  } catch (error) {
    for (const file of created) await rm(file, { force: true })
    throw error
  }

  const total = written.reduce((sum, file) => sum + file.size, 0)
  const lines = [
    `ZIP archive ${relative}: ${written.length} file${written.length === 1 ? '' : 's'}, ${formatBytes(total)} unpacked into ${targetDir}/`,
    ...written.map((file) => `- ${file.path} (${formatBytes(file.size)})`),
  ]
  if (skipped.length > 0) lines.push('', 'Not unpacked:', ...skipped.map((name) => `- ${name}`))
  if (written.length > 0) lines.push('', 'Read any of these files with get_text_from_local_file.')
  return lines.join('\n')
}

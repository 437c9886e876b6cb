import { readFile, stat } from 'node:fs/promises'
import { BerthError } from '../core/errors.js'
import { isGone } from '../workspace/fs-errors.js'
// The one place that tells images by their first bytes (see display-image.ts).
import { imageTypeOf } from './image-check.js'
import type { ToolContext, ToolImage } from './tool.js'
import { resolveToolPath } from './workspace-path.js'

/**
 * Keep an image a tool made (a screenshot, a chart) as a workspace file and
 * return the part for `ToolResult.images`. Written through the one door
 * (`workspaces.writeFile`: containment, quota, atomic rename) unless the file
 * already holds exactly these bytes; only PNG, JPEG, GIF and WebP bytes are
 * taken (`FILE_TYPE_MISMATCH` otherwise), so what the history attaches later
 * is what the tool made.
 *
 * @example
 *   const image = await saveToolImage(context, 'screenshots/step-3.png', await page.screenshot())
 *   return { output: 'Clicked.', images: [image] }
 */
export async function saveToolImage(context: ToolContext, path: string, bytes: Uint8Array): Promise<ToolImage> {
  const mediaType = imageTypeOf(bytes)
  if (mediaType === undefined) {
    throw new BerthError('FILE_TYPE_MISMATCH', `The bytes for ${path} are not a PNG, JPEG, GIF or WebP image.`, {
      details: { path },
    })
  }
  const { absolute, relative } = await resolveToolPath(context, path)
  if (!(await holds(absolute, bytes))) await context.workspaces.writeFile(context.sessionId, relative, bytes)
  return { path: relative, mediaType }
}

/** Whether the file exists with exactly these bytes (read only when the size matches). */
async function holds(file: string, bytes: Uint8Array): Promise<boolean> {
  try {
    const info = await stat(file)
    return info.isFile() && info.size === bytes.byteLength && (await readFile(file)).equals(bytes)
  } catch (error) {
    if (isGone(error)) return false
    throw error
  }
}

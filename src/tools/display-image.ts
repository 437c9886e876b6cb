import { open } from 'node:fs/promises'
import { z } from 'zod'
import { BerthError } from '../core/errors.js'
import { formatBytes } from '../core/format-bytes.js'
import { isGone } from '../workspace/fs-errors.js'
// The one place that tells images by their first bytes; the history attaches what this tool accepts.
import { checkImage, MAX_IMAGE_BYTES } from './image-check.js'
import { defineTool, type Tool } from './tool.js'
import { resolveToolPath } from './workspace-path.js'

const parameters = z.object({
  image_path: z
    .string()
    .describe('Path of the image file in the workspace, e.g. a downloaded picture or an uploaded photo.'),
})

/**
 * The reference's `display_image`: lets the model look at an image file of
 * the workspace. The file is reached through the one door
 * (`resolveToolPath`), must be a PNG, JPEG, GIF or WebP by its first bytes
 * (whatever its name says) and small enough for every provider; the result
 * names it as an image part (its path, never its bytes), which the history
 * attaches to the request (src/agent/image-attachments.ts).
 *
 * @example
 *   await runTool(createDisplayImageTool(), { image_path: 'uploaded_files/chart.png' }, ctx)
 *   // { output: 'Showing uploaded_files/chart.png (image/png, 12.0 KB).', images: [{ path: 'uploaded_files/chart.png', mediaType: 'image/png' }] }
 */
export function createDisplayImageTool(): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'display_image',
    description:
      'Look at an image file from the workspace: a PNG, JPEG, GIF or WebP of at most ' +
      `${MAX_IMAGE_BYTES / 1e6} MB, such as a downloaded picture, a chart you made or a file the user uploaded. ` +
      'The image is attached to the result so you can see it.',
    parameters,
    async execute(input, context) {
      const { absolute, relative } = await resolveToolPath(context, input.image_path)
      const handle = await open(absolute, 'r').catch((error: unknown) => {
        if (isGone(error)) {
          throw new BerthError('FILE_NOT_FOUND', `No such file in the workspace: ${relative}`, {
            details: { path: relative },
          })
        }
        throw error
      })
      try {
        const check = await checkImage(handle)
        switch (check.kind) {
          case 'not-a-file':
            throw new BerthError('PATH_INVALID', `${relative} is not a file; give the path of an image file.`, {
              details: { path: relative },
            })
          case 'not-an-image':
            throw new BerthError(
              'FILE_TYPE_MISMATCH',
              `${relative} is not an image: its contents are not PNG, JPEG, GIF or WebP, whatever its name says.`,
              { details: { path: relative } },
            )
          case 'too-big':
            throw new BerthError(
              'FILE_TOO_LARGE',
              `${relative} is ${formatBytes(check.size)}, over the ${MAX_IMAGE_BYTES / 1e6} MB a model accepts; ` +
                'make a smaller copy (scaled down or compressed) and display that.',
              { details: { path: relative, size: check.size, limit: MAX_IMAGE_BYTES } },
            )
          case 'image':
            return {
              output: `Showing ${relative} (${check.mediaType}, ${formatBytes(check.size)}).`,
              images: [{ path: relative, mediaType: check.mediaType }],
            }
        }
      } finally {
        await handle.close()
      }
    },
  })
}

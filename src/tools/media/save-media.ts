import { BerthError } from '../../core/errors.js'
import { formatBytes } from '../../core/format-bytes.js'
import { MediaError } from '../../media/media-error.js'
import { describeNonMedia, type MediaClass, sniffMedia } from '../../media/media-type.js'
import { extensionOf } from '../documents/detect.js'
import type { ToolContext } from '../tool.js'
import { resolveToolPath } from '../workspace-path.js'

/** Where a generated file will go: checked before the service is paid to make it. */
export interface MediaTarget {
  relative: string
}

/**
 * Check the model's `output_filename` before anything is generated: a
 * workspace path (the one door, `resolveToolPath`) with one of `extensions`.
 *
 * @example
 *   const target = await mediaTarget(context, 'art/cat.png', ['png', 'jpg'], 'an image')
 */
export async function mediaTarget(
  context: ToolContext,
  outputFilename: string,
  extensions: readonly string[],
  what: string,
): Promise<MediaTarget> {
  const extension = extensionOf(outputFilename.trim())
  if (!extensions.includes(extension)) {
    throw new BerthError(
      'TOOL_INPUT_INVALID',
      `output_filename must end with ${extensions.map((e) => `.${e}`).join(', ')} for ${what}; got ${JSON.stringify(outputFilename)}.`,
      { details: { output_filename: outputFilename } },
    )
  }
  const { relative } = await resolveToolPath(context, outputFilename)
  return { relative }
}

/** A generated file, kept: its workspace path, type by its first bytes, size and public URL. */
export interface SavedMedia {
  path: string
  mediaType: string
  size: number
  url: string
  /** Set when the bytes were of another type than the name said, so the extension was changed. */
  renamedFrom?: string
}

/**
 * Keep what a media service made as a workspace file: its first bytes must be
 * the `expected` kind of media (an HTML error page or a JSON body is
 * `MEDIA_INVALID_OUTPUT` and nothing is written); a name whose extension does
 * not fit the bytes (a JPEG asked for as .png) gets the right extension. The
 * write goes through the one door (`workspaces.writeFile`: containment, the
 * quota, an atomic rename), so a failure leaves no partial file.
 *
 * @example
 *   const saved = await saveMedia(context, target, bytes, ['image'], 'image')
 *   saved.url // 'https://berth.example.com/workspace/<session>/art/cat.png'
 */
export async function saveMedia(
  context: ToolContext,
  target: MediaTarget,
  bytes: Uint8Array,
  expected: readonly MediaClass[],
  service: string,
): Promise<SavedMedia> {
  const sniffed = sniffMedia(bytes)
  if (sniffed === undefined || !expected.includes(sniffed.class)) {
    throw new MediaError(
      'MEDIA_INVALID_OUTPUT',
      `The ${service} service answered ${describeNonMedia(bytes)} (${formatBytes(bytes.byteLength)}) instead of ` +
        `${expected.join(' or ')} data; nothing was written to ${target.relative}.`,
    )
  }
  let relative = target.relative
  let renamedFrom: string | undefined
  if (!fits(extensionOf(relative), sniffed.extension)) {
    renamedFrom = relative
    relative = `${relative.slice(0, relative.length - extensionOf(relative).length)}${sniffed.extension}`
  }
  await context.workspaces.writeFile(context.sessionId, relative, bytes)
  return {
    path: relative,
    mediaType: sniffed.mediaType,
    size: bytes.byteLength,
    url: workspaceFileUrl(context, relative),
    ...(renamedFrom === undefined ? {} : { renamedFrom }),
  }
}

/** One sentence for the result: `Saved to a.png (image/png, 12 KB). URL: …` plus a note on a changed name. */
export function savedSentence(saved: SavedMedia): string {
  const renamed =
    saved.renamedFrom === undefined
      ? ''
      : ` The service made ${saved.mediaType}, so it was saved as ${saved.path} instead of ${saved.renamedFrom}.`
  return `Saved to ${saved.path} (${saved.mediaType}, ${formatBytes(saved.size)}).${renamed} URL: ${saved.url}`
}

const SAME: Record<string, readonly string[]> = {
  jpg: ['jpg', 'jpeg'],
  ogg: ['ogg', 'oga', 'opus'],
  m4a: ['m4a', 'mp4'],
}

function fits(extension: string, sniffedExtension: string): boolean {
  return (SAME[sniffedExtension] ?? [sniffedExtension]).includes(extension)
}

/**
 * The public URL of a workspace file, built as `static_deploy` builds it
 * (src/tools/static-deploy.ts): `<publicUrl>/workspace/<session>/<path>`,
 * never naming where the file is stored; relative to the server when no
 * public URL is known, `0.0.0.0` read as localhost.
 *
 * @example workspaceFileUrl(context, 'art/cat 1.png') // 'https://berth.example.com/workspace/<session>/art/cat%201.png'
 */
export function workspaceFileUrl(context: Pick<ToolContext, 'publicUrl' | 'sessionId'>, relative: string): string {
  const base = context.publicUrl.trim().replace(/\/+$/, '').replaceAll('0.0.0.0', 'localhost')
  const encoded = relative.split('/').map(encodeURIComponent).join('/')
  return `${base}/workspace/${encodeURIComponent(context.sessionId)}/${encoded}`
}

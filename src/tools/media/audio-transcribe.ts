import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { BerthError } from '../../core/errors.js'
import { formatBytes } from '../../core/format-bytes.js'
import { sniffMedia } from '../../media/media-type.js'
import type { TranscriptionProvider } from '../../media/types.js'
import { extensionOf } from '../documents/detect.js'
import { defineTool, type Tool, type ToolContext } from '../tool.js'
import { resolveToolPath } from '../workspace-path.js'

/** The reference's list of formats it transcribes. */
export const TRANSCRIBABLE_EXTENSIONS = [
  'flac',
  'm4a',
  'mp3',
  'mp4',
  'mpeg',
  'mpga',
  'oga',
  'ogg',
  'wav',
  'webm',
] as const
/** OpenAI's transcription API takes files up to 25 MB. */
export const MAX_TRANSCRIBE_BYTES = 25 * 1024 * 1024

const parameters = z.object({
  file_path: z.string().describe("Path of the audio file in the workspace, e.g. 'uploaded_files/meeting.mp3'."),
})

/**
 * The words of an audio file of the workspace, from the transcription
 * provider. Shared by `audio_transcribe` and the file reader's audio branch
 * (documents/read-document.ts). The file must be audio (or a WebM/MP4 with
 * sound) by its first bytes and at most 25 MB.
 *
 * @example
 *   const text = await transcribeFile(context, provider, { absolute, relative, size })
 */
export async function transcribeFile(
  context: ToolContext,
  provider: TranscriptionProvider,
  file: { absolute: string; relative: string; size: number },
): Promise<string> {
  if (file.size > MAX_TRANSCRIBE_BYTES) {
    throw new BerthError(
      'FILE_TOO_LARGE',
      `${file.relative} is ${formatBytes(file.size)}, over the ${formatBytes(MAX_TRANSCRIBE_BYTES)} a transcription takes. ` +
        'Split it into shorter parts in the shell (ffmpeg -f segment) and transcribe each.',
      { details: { path: file.relative, size: file.size, limit: MAX_TRANSCRIBE_BYTES } },
    )
  }
  const bytes = await readFile(file.absolute)
  const sniffed = sniffMedia(bytes)
  if (sniffed === undefined || sniffed.class === 'image') {
    throw new BerthError(
      'FILE_TYPE_MISMATCH',
      `${file.relative} is not an audio file by its contents, whatever its name says.`,
      { details: { path: file.relative } },
    )
  }
  // Services tell the format by the name: keep the file's own, unless it is one they do not know.
  const extension = extensionOf(file.relative)
  const known = (TRANSCRIBABLE_EXTENSIONS as readonly string[]).includes(extension)
  const fileName = known ? path.posix.basename(file.relative) : `audio.${sniffed.extension}`
  return provider.transcribe({ bytes, fileName }, context.signal)
}

/**
 * The reference's `audio_transcribe`: the text spoken in an audio file of
 * the workspace. Offered only when a transcription provider is configured.
 *
 * @example
 *   await runTool(createAudioTranscribeTool(provider), { file_path: 'uploaded_files/memo.wav' }, ctx)
 *   // { output: 'Hello from berth.' }
 */
export function createAudioTranscribeTool(provider: TranscriptionProvider): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'audio_transcribe',
    description:
      `Transcribe the speech in an audio file of the workspace (${provider.provider}, ${provider.model}). ` +
      `Formats: ${TRANSCRIBABLE_EXTENSIONS.join(', ')}; up to ${MAX_TRANSCRIBE_BYTES / 1024 / 1024} MB.`,
    parameters,
    async execute(input, context) {
      const { absolute, relative } = await resolveToolPath(context, input.file_path)
      const info = await stat(absolute).catch(() => null)
      if (info === null) {
        throw new BerthError('FILE_NOT_FOUND', `File not found: ${relative}. Use list_files to see what is there.`, {
          details: { path: relative },
        })
      }
      if (!info.isFile()) {
        throw new BerthError('PATH_IS_A_FOLDER', `${relative} is not a file.`, { details: { path: relative } })
      }
      const extension = extensionOf(relative)
      if (!(TRANSCRIBABLE_EXTENSIONS as readonly string[]).includes(extension)) {
        throw new BerthError(
          'FILE_TYPE_MISMATCH',
          `.${extension} files cannot be transcribed; formats: ${TRANSCRIBABLE_EXTENSIONS.join(', ')}.`,
          { details: { path: relative } },
        )
      }
      const text = await transcribeFile(context, provider, { absolute, relative, size: info.size })
      return { output: text === '' ? `No speech was recognized in ${relative}.` : text }
    },
  })
}

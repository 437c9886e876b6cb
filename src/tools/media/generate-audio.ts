import { z } from 'zod'
import type { SpeechFormat, SpeechProvider } from '../../media/types.js'
import { extensionOf } from '../documents/detect.js'
import { defineTool, type Tool } from '../tool.js'
import { mediaTarget, savedSentence, saveMedia } from './save-media.js'

/** The reference's voices (OpenAI's original six). */
export const SPEECH_VOICES = ['alloy', 'echo', 'fable', 'onyx', 'nova', 'shimmer'] as const

/** The file name's extension picks the format asked of the service. */
const FORMAT_BY_EXTENSION: Record<string, SpeechFormat> = {
  mp3: 'mp3',
  wav: 'wav',
  flac: 'flac',
  opus: 'opus',
  ogg: 'opus',
}

const parameters = z.object({
  text: z.string().trim().min(1).describe('The text to speak.'),
  output_filename: z
    .string()
    .describe("Where to save the audio in the workspace, e.g. 'generated_audio/answer.mp3'. Should end with .mp3."),
  voice: z.enum(SPEECH_VOICES).default('alloy').describe('The voice to speak with.'),
  temperature: z
    .number()
    .min(0)
    .max(2)
    .optional()
    .describe('Accepted for compatibility; the speech API has no randomness setting, so it is not sent.'),
  system_prompt: z
    .string()
    .optional()
    .describe("How to speak: a persona or tone, e.g. 'You are a cheerful assistant.'"),
})

/**
 * The reference's `generate_audio_response`: speech from text through the
 * configured speech provider (`/audio/speech`), saved in the workspace as
 * MP3 (or WAV, FLAC, Opus by the file's extension), checked by its first
 * bytes before it is written.
 *
 * @example
 *   await runTool(createGenerateAudioTool(provider), { text: 'Hello', output_filename: 'hello.mp3' }, ctx)
 */
export function createGenerateAudioTool(provider: SpeechProvider): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'generate_audio_response',
    description:
      `Turn text into speech (${provider.provider}, ${provider.model}) and save it in the workspace as an MP3 file. ` +
      `Voices: ${SPEECH_VOICES.join(', ')}. The result gives the file and its URL, which plays in the browser.`,
    parameters,
    async execute(input, context) {
      const target = await mediaTarget(context, input.output_filename, Object.keys(FORMAT_BY_EXTENSION), 'speech')
      const format = FORMAT_BY_EXTENSION[extensionOf(target.relative)] ?? 'mp3'
      const instructions = input.system_prompt?.trim()
      const answer = await provider.speak(
        {
          text: input.text,
          voice: input.voice,
          format,
          ...(instructions === undefined || instructions === '' ? {} : { instructions }),
        },
        context.signal,
      )
      const saved = await saveMedia(context, target, answer.bytes, ['audio'], 'speech')
      return { output: `Generated speech with the voice ${input.voice}. ${savedSentence(saved)}` }
    },
  })
}

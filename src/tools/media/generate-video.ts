import { z } from 'zod'
import type { VideoProvider } from '../../media/types.js'
import { defineTool, type Tool } from '../tool.js'
import { mediaTarget, savedSentence, saveMedia } from './save-media.js'

const parameters = z.object({
  prompt: z.string().trim().min(1).describe('A detailed description of the video to make.'),
  output_filename: z
    .string()
    .describe("Where to save the video in the workspace, e.g. 'generated_videos/waves.mp4'. Must end with .mp4."),
})

/**
 * The reference's `generate_video_from_text` (which it never implemented):
 * a short clip from the configured video provider (OpenAI's video API),
 * saved as MP4 after its first bytes are checked. Offered only when a video
 * provider is configured.
 *
 * @example
 *   await runTool(createGenerateVideoTool(provider), { prompt: 'waves at dusk', output_filename: 'v/waves.mp4' }, ctx)
 */
export function createGenerateVideoTool(provider: VideoProvider): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'generate_video_from_text',
    description:
      `Make a short video (a few seconds) from a text prompt (${provider.provider}, ${provider.model}) and save it in the ` +
      'workspace as MP4. It takes minutes; the result gives the file and its URL, which plays in the browser.',
    parameters,
    async execute(input, context) {
      const target = await mediaTarget(context, input.output_filename, ['mp4'], 'a video')
      const answer = await provider.generate({ prompt: input.prompt }, context.signal)
      const saved = await saveMedia(context, target, answer.bytes, ['video'], 'video')
      return { output: `Generated a video from the prompt. ${savedSentence(saved)}` }
    },
  })
}

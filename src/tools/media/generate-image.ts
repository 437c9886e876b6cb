import { z } from 'zod'
import type { ImageProvider } from '../../media/types.js'
import { defineTool, type Tool } from '../tool.js'
import { mediaTarget, savedSentence, saveMedia } from './save-media.js'

const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp'] as const

const parameters = z.object({
  prompt: z.string().trim().min(1).describe('A detailed description of the image to make.'),
  output_filename: z
    .string()
    .describe("Where to save the image in the workspace, e.g. 'generated_images/lighthouse.png'. Must end with .png."),
  negative_prompt: z
    .string()
    .optional()
    .describe('What the image should not show. Default: "blur, distortion, low quality".'),
  guidance_scale: z
    .number()
    .min(1)
    .max(20)
    .optional()
    .describe('How closely to follow the prompt, 1.0 to 20.0. Default 7.5.'),
  width: z.number().int().min(64).max(4096).optional().describe('Width in pixels. Default 1024.'),
  height: z.number().int().min(64).max(4096).optional().describe('Height in pixels. Default 1024.'),
  num_inference_steps: z
    .number()
    .int()
    .min(1)
    .max(150)
    .optional()
    .describe('Inference steps: more is slower and finer. Default 50.'),
})

/**
 * The reference's `generate_image_from_text`: an image from a prompt, made by
 * the configured image provider (Chutes FLUX or an OpenAI-compatible Images
 * API), kept in the workspace and shown to the model. The target path is
 * checked before the service is called; the bytes are checked by their first
 * bytes before anything is written (save-media.ts).
 *
 * @example
 *   await runTool(createGenerateImageTool(provider), { prompt: 'a red lighthouse', output_filename: 'art/l.png' }, ctx)
 *   // { output: 'Generated an image for "a red lighthouse". Saved to art/l.png (image/png, 1.2 MB). URL: …', images: [...] }
 */
export function createGenerateImageTool(provider: ImageProvider): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'generate_image_from_text',
    description:
      `Make an image from a text prompt (${provider.provider}, ${provider.model}) and save it in the workspace as a PNG. ` +
      'The result gives the file and its URL, and shows you the image. Use it for pictures the user asks for or a page needs; ' +
      'link the file by its relative path from a site in the same workspace.',
    parameters,
    async execute(input, context) {
      const target = await mediaTarget(context, input.output_filename, IMAGE_EXTENSIONS, 'an image')
      const answer = await provider.generate(
        {
          prompt: input.prompt,
          ...(input.negative_prompt === undefined ? {} : { negativePrompt: input.negative_prompt }),
          ...(input.guidance_scale === undefined ? {} : { guidanceScale: input.guidance_scale }),
          ...(input.width === undefined ? {} : { width: input.width }),
          ...(input.height === undefined ? {} : { height: input.height }),
          ...(input.num_inference_steps === undefined ? {} : { numInferenceSteps: input.num_inference_steps }),
        },
        context.signal,
      )
      const saved = await saveMedia(context, target, answer.bytes, ['image'], 'image')
      return {
        output: `Generated an image from the prompt. ${savedSentence(saved)}`,
        images: [{ path: saved.path, mediaType: saved.mediaType }],
      }
    },
  })
}

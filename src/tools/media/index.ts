import type { MediaProviders } from '../../media/types.js'
import type { AnyTool } from '../run-tool.js'
import { createAudioTranscribeTool } from './audio-transcribe.js'
import { createGenerateAudioTool } from './generate-audio.js'
import { createGenerateImageTool } from './generate-image.js'
import { createGenerateVideoTool } from './generate-video.js'

export { MEDIA_TOOL_NAMES } from './tool-names.js'

/**
 * The media tools whose provider is configured: none of them is offered
 * without one, so the model never calls a tool that can only fail.
 *
 * @example
 *   mediaToolsFor(createMediaProviders(config)).map((t) => t.name) // ['generate_image_from_text', 'audio_transcribe']
 */
export function mediaToolsFor(media: MediaProviders): AnyTool[] {
  return [
    ...(media.image ? [createGenerateImageTool(media.image)] : []),
    ...(media.speech ? [createGenerateAudioTool(media.speech)] : []),
    ...(media.transcription ? [createAudioTranscribeTool(media.transcription)] : []),
    ...(media.video ? [createGenerateVideoTool(media.video)] : []),
  ]
}

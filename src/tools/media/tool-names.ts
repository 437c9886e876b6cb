/** The media tool names, with the reference's spelling (a file of its own, so the prompt loads no tool code). */
export const MEDIA_TOOL_NAMES = [
  'generate_image_from_text',
  'generate_audio_response',
  'audio_transcribe',
  'generate_video_from_text',
] as const

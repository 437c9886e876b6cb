const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  ico: 'image/x-icon',
  bmp: 'image/bmp',
  avif: 'image/avif',
}

/** What chromium plays in `<audio>` and `<video>`; the server's Content-Type comes from mime-types, not from here. */
const AUDIO_TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  flac: 'audio/flac',
  weba: 'audio/webm',
}

const VIDEO_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  webm: 'video/webm',
  ogv: 'video/ogg',
  mov: 'video/quicktime',
}

export type MediaKind = 'image' | 'audio' | 'video'

const LANGUAGES: Record<string, string> = {
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  jsx: 'javascript',
  ts: 'typescript',
  tsx: 'typescript',
  py: 'python',
  json: 'json',
  html: 'xml',
  htm: 'xml',
  xml: 'xml',
  svg: 'xml',
  css: 'css',
  sh: 'bash',
  bash: 'bash',
  md: 'markdown',
  yml: 'yaml',
  yaml: 'yaml',
}

function extension(path: string): string {
  const name = path.split('/').pop() ?? ''
  const dot = name.lastIndexOf('.')
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : ''
}

/** The image MIME type of a path, or null. @example imageType('a/logo.PNG') // 'image/png' */
export function imageType(path: string): string | null {
  return IMAGE_TYPES[extension(path)] ?? null
}

/**
 * Whether a path is shown (image) or played (audio, video) rather than read as text; null for anything else.
 *
 * @example mediaKind('out/speech.MP3') // 'audio'
 */
export function mediaKind(path: string): MediaKind | null {
  const ext = extension(path)
  if (IMAGE_TYPES[ext]) return 'image'
  if (AUDIO_TYPES[ext]) return 'audio'
  if (VIDEO_TYPES[ext]) return 'video'
  return null
}

/** The highlight.js language for a path, or null for plain text. @example languageOf('x.py') // 'python' */
export function languageOf(path: string): string | null {
  return LANGUAGES[extension(path)] ?? null
}

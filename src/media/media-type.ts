import { sniff } from '../tools/documents/detect.js'
import { imageTypeOf } from '../tools/image-check.js'

export type MediaClass = 'image' | 'audio' | 'video'

/** What the first bytes of a media file are. */
export interface SniffedMedia {
  class: MediaClass
  mediaType: string
  /** The usual extension, without the dot. */
  extension: string
}

const IMAGE_EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
}

/**
 * The media type of bytes by their first bytes, never by a name or a header:
 * the images a model accepts (tools/image-check.ts), MP3, WAV, Ogg, FLAC,
 * WebM (Matroska's EBML header) and MP4/M4A (`ftyp`). Anything else (HTML,
 * JSON, an error page) is undefined.
 *
 * @example
 *   sniffMedia(pngBytes)  // { class: 'image', mediaType: 'image/png', extension: 'png' }
 *   sniffMedia(Buffer.from('<html>')) // undefined
 */
export function sniffMedia(bytes: Uint8Array): SniffedMedia | undefined {
  const head = bytes.subarray(0, 64)
  const image = imageTypeOf(head)
  if (image !== undefined) return { class: 'image', mediaType: image, extension: IMAGE_EXTENSIONS[image] ?? 'img' }
  if (head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) {
    return { class: 'video', mediaType: 'video/webm', extension: 'webm' }
  }
  switch (sniff(head)) {
    case 'mp3':
      return { class: 'audio', mediaType: 'audio/mpeg', extension: 'mp3' }
    case 'wav':
      return { class: 'audio', mediaType: 'audio/wav', extension: 'wav' }
    case 'ogg':
      return { class: 'audio', mediaType: 'audio/ogg', extension: 'ogg' }
    case 'flac':
      return { class: 'audio', mediaType: 'audio/flac', extension: 'flac' }
    case 'mp4': {
      // The major brand after `ftyp` tells an audio-only M4A from a video.
      const brand = Buffer.from(head.subarray(8, 12)).toString('latin1')
      return brand.startsWith('M4A') || brand.startsWith('M4B')
        ? { class: 'audio', mediaType: 'audio/mp4', extension: 'm4a' }
        : { class: 'video', mediaType: 'video/mp4', extension: 'mp4' }
    }
    default:
      return undefined
  }
}

/**
 * A short description of bytes that are not the media asked for, for error
 * messages: `HTML`, `JSON`, `text`, or `unknown binary data`.
 *
 * @example describeNonMedia(Buffer.from('{"error":"x"}')) // 'JSON: {"error":"x"}'
 */
export function describeNonMedia(bytes: Uint8Array): string {
  const kind = sniffMedia(bytes)
  if (kind !== undefined) return kind.mediaType
  if (sniff(bytes.subarray(0, 64)) !== 'text') return 'unknown binary data'
  const text = Buffer.from(bytes.subarray(0, 200)).toString('utf8').trim()
  const shown = text.replace(/\s+/g, ' ').slice(0, 120)
  if (/^<(!doctype|html|\?xml|head|body)/i.test(text)) return `HTML: ${shown}`
  if (text.startsWith('{') || text.startsWith('[')) return `JSON: ${shown}`
  return bytes.byteLength === 0 ? 'an empty answer' : `text: ${shown}`
}

import { MediaError, type MediaSite } from './media-error.js'

/** The most bytes berth takes from a media service in one answer (a long video stays well below). */
export const MAX_MEDIA_BYTES = 512 * 1024 * 1024

/**
 * A response body as bytes, refused past `maxBytes` (checked against
 * Content-Length first, then while reading), so a runaway answer cannot
 * fill the memory.
 *
 * @example
 *   const bytes = await readBody(response, site)
 */
export async function readBody(response: Response, site: MediaSite, maxBytes = MAX_MEDIA_BYTES): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(site, maxBytes)
  if (response.body === null) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of response.body) {
    total += chunk.byteLength
    if (total > maxBytes) throw tooLarge(site, maxBytes)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, total)
}

function tooLarge(site: MediaSite, maxBytes: number): MediaError {
  return new MediaError(
    'MEDIA_INVALID_OUTPUT',
    `The ${site.kind} service ${site.provider} (${site.model}) answered more than ${maxBytes} bytes; nothing was kept.`,
    { site },
  )
}

/**
 * Dimensions of the common image formats and a few basic EXIF tags of a
 * JPEG or TIFF (camera, time, orientation), read from the first bytes of
 * the file without an image library.
 */

export interface ImageInfo {
  width: number | null
  height: number | null
  /** Tag name to value, e.g. `{ Make: 'Canon', Orientation: '1' }`. */
  exif: Record<string, string>
}

const EXIF_TAGS: Record<number, string> = {
  270: 'ImageDescription',
  271: 'Make',
  272: 'Model',
  274: 'Orientation',
  305: 'Software',
  306: 'DateTime',
  315: 'Artist',
  33432: 'Copyright',
  36867: 'DateTimeOriginal',
}
const EXIF_IFD_POINTER = 0x8769

/**
 * @example
 *   imageInfo('png', head) // { width: 640, height: 480, exif: {} }
 */
export function imageInfo(format: string, head: Buffer): ImageInfo {
  try {
    switch (format) {
      case 'png':
        return { width: head.readUInt32BE(16), height: head.readUInt32BE(20), exif: {} }
      case 'gif':
        return { width: head.readUInt16LE(6), height: head.readUInt16LE(8), exif: {} }
      case 'bmp':
        return { width: head.readInt32LE(18), height: Math.abs(head.readInt32LE(22)), exif: {} }
      case 'webp':
        return { ...webpSize(head), exif: {} }
      case 'jpeg':
        return jpegInfo(head)
      case 'tiff': {
        const tags = readTiff(head)
        return { width: numberOrNull(tags.ImageWidth), height: numberOrNull(tags.ImageLength), exif: pickExif(tags) }
      }
    }
  } catch {
    // A truncated or odd header: report what the type alone says.
  }
  return { width: null, height: null, exif: {} }
}

function webpSize(b: Buffer): { width: number | null; height: number | null } {
  const chunk = b.toString('latin1', 12, 16)
  if (chunk === 'VP8X') return { width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) }
  if (chunk === 'VP8L') {
    const bits = b.readUInt32LE(21)
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) }
  }
  if (chunk === 'VP8 ') return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff }
  return { width: null, height: null }
}

function jpegInfo(b: Buffer): ImageInfo {
  let width: number | null = null
  let height: number | null = null
  let exif: Record<string, string> = {}
  let i = 2
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) break
    const marker = b[i + 1] as number
    const length = b.readUInt16BE(i + 2)
    if (marker === 0xe1 && b.toString('latin1', i + 4, i + 10) === 'Exif\0\0') {
      exif = pickExif(readTiff(b.subarray(i + 10, i + 2 + length)))
    }
    // SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      height = b.readUInt16BE(i + 5)
      width = b.readUInt16BE(i + 7)
      break
    }
    i += 2 + length
  }
  return { width, height, exif }
}

/** The tags of IFD0 (and of the Exif sub-IFD) of a TIFF structure, by name. */
function readTiff(t: Buffer): Record<string, string | number> {
  const little = t.toString('latin1', 0, 2) === 'II'
  const u16 = (o: number) => (little ? t.readUInt16LE(o) : t.readUInt16BE(o))
  const u32 = (o: number) => (little ? t.readUInt32LE(o) : t.readUInt32BE(o))
  const out: Record<string, string | number> = {}
  const readIfd = (offset: number, depth: number) => {
    if (offset <= 0 || offset + 2 > t.length) return
    const count = Math.min(u16(offset), 500)
    for (let n = 0; n < count; n++) {
      const entry = offset + 2 + n * 12
      if (entry + 12 > t.length) return
      const tag = u16(entry)
      const type = u16(entry + 2)
      const items = u32(entry + 4)
      if (tag === EXIF_IFD_POINTER && depth === 0) {
        readIfd(u32(entry + 8), 1)
        continue
      }
      const name = tag === 0x0100 ? 'ImageWidth' : tag === 0x0101 ? 'ImageLength' : EXIF_TAGS[tag]
      if (name === undefined) continue
      if (type === 2) {
        const at = items <= 4 ? entry + 8 : u32(entry + 8)
        if (at + items <= t.length)
          out[name] = t
            .toString('latin1', at, at + items)
            .replace(/\0+$/, '')
            .trim()
      } else if (type === 3) out[name] = u16(entry + 8)
      else if (type === 4) out[name] = u32(entry + 8)
    }
  }
  readIfd(u32(4), 0)
  return out
}

function pickExif(tags: Record<string, string | number>): Record<string, string> {
  const exif: Record<string, string> = {}
  for (const name of Object.values(EXIF_TAGS)) {
    const value = tags[name]
    if (value !== undefined && value !== '') exif[name] = String(value)
  }
  return exif
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' ? value : null
}

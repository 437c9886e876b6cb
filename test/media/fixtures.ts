import { PNG_1PX } from '../helpers/images.js'

export { PNG_1PX }

/** A real WAV: 16-bit mono PCM at 8 kHz, 0.05 s of a 440 Hz tone. */
export const WAV_TONE = (() => {
  const rate = 8000
  const samples = 400
  const data = Buffer.alloc(samples * 2)
  for (let i = 0; i < samples; i++)
    data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2)
  const header = Buffer.alloc(44)
  header.write('RIFF', 0, 'latin1')
  header.writeUInt32LE(36 + data.length, 4)
  header.write('WAVE', 8, 'latin1')
  header.write('fmt ', 12, 'latin1')
  header.writeUInt32LE(16, 16)
  header.writeUInt16LE(1, 20) // PCM
  header.writeUInt16LE(1, 22) // mono
  header.writeUInt32LE(rate, 24)
  header.writeUInt32LE(rate * 2, 28)
  header.writeUInt16LE(2, 32)
  header.writeUInt16LE(16, 34)
  header.write('data', 36, 'latin1')
  header.writeUInt32LE(data.length, 40)
  return Buffer.concat([header, data])
})()

/**
 * A real MP3: an ID3v2 tag, then three MPEG-1 Layer III frames (128 kbit/s,
 * 44.1 kHz, 417 bytes each) whose side information is zero, which decoders
 * play as silence.
 */
export const MP3_SILENCE = (() => {
  const id3 = Buffer.from([0x49, 0x44, 0x33, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00])
  const frame = Buffer.alloc(417)
  frame.set([0xff, 0xfb, 0x90, 0x64])
  return Buffer.concat([id3, frame, frame, frame])
})()

/** The start of an MP4 file: an `ftyp` box (brand isom) and an empty `mdat` box, with a marker to tell copies apart. */
export const MP4_CLIP = (() => {
  const ftyp = Buffer.alloc(24)
  ftyp.writeUInt32BE(24, 0)
  ftyp.write('ftypisom', 4, 'latin1')
  ftyp.writeUInt32BE(0x200, 12)
  ftyp.write('isomiso2', 16, 'latin1')
  const payload = Buffer.from('berth-test-video-payload')
  const mdat = Buffer.alloc(8)
  mdat.writeUInt32BE(8 + payload.length, 0)
  mdat.write('mdat', 4, 'latin1')
  return Buffer.concat([ftyp, mdat, payload])
})()

/** The start of a JPEG (SOI and a JFIF APP0 marker): enough for the type check, as a FLUX endpoint's answer. */
export const JPEG_HEAD = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]),
  Buffer.from('berth-test-jpeg'),
])

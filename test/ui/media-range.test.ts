import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { postJson, startFileServer } from '../server/file-routes-harness.js'

/**
 * The file URLs the UI's audio and video players load answer `Range`, so a
 * long file seeks: the owner's `/api/files/download` and a share link's
 * `/api/share/<token>/files/download`.
 */
const AUDIO = randomBytes(300_000)

async function setup() {
  const server = await startFileServer()
  await server.session('media-1', 'dev-m', { 'media/long.mp3': AUDIO, '.secret.mp3': AUDIO })
  const made = await postJson(server, '/api/sessions/media-1/share', {}, { device: 'dev-m' })
  const token = ((await made.json()) as { share: { token: string } }).share.token
  return { server, token }
}

async function ranged(url: string, range: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers: { range, ...headers } })
  return { response, body: Buffer.from(await response.arrayBuffer()) }
}

describe('Range on the file URLs the players use', () => {
  it('the owner download answers 206 with Content-Range and exactly those bytes, 416 past the end', async () => {
    const { server } = await setup()
    const url = `${server.url}/api/files/download?workspace_id=media-1&path=media/long.mp3`
    const whole = await fetch(url, { headers: { 'x-device-id': 'dev-m' } })
    expect(whole.status).toBe(200)
    expect(whole.headers.get('accept-ranges')).toBe('bytes')
    expect(whole.headers.get('content-type')).toBe('audio/mpeg')
    expect(Buffer.from(await whole.arrayBuffer()).equals(AUDIO)).toBe(true)

    // The cookie a browser's <audio src> sends is enough.
    const middle = await ranged(url, 'bytes=100000-100099', { cookie: 'device_id=dev-m' })
    expect(middle.response.status).toBe(206)
    expect(middle.response.headers.get('content-range')).toBe(`bytes 100000-100099/${AUDIO.length}`)
    expect(middle.response.headers.get('content-length')).toBe('100')
    expect(middle.body.equals(AUDIO.subarray(100000, 100100))).toBe(true)

    const open = await ranged(url, 'bytes=299990-', { 'x-device-id': 'dev-m' })
    expect(open.response.status).toBe(206)
    expect(open.body.equals(AUDIO.subarray(299990))).toBe(true)
    const suffix = await ranged(url, 'bytes=-5', { 'x-device-id': 'dev-m' })
    expect(suffix.body.equals(AUDIO.subarray(-5))).toBe(true)

    const past = await ranged(url, `bytes=${AUDIO.length}-`, { 'x-device-id': 'dev-m' })
    expect(past.response.status).toBe(416)
    expect(past.response.headers.get('content-range')).toBe(`bytes */${AUDIO.length}`)

    // Another device gets nothing, ranged or not.
    expect((await ranged(url, 'bytes=0-9', { 'x-device-id': 'dev-other' })).response.status).toBe(403)
  })

  it('a share link streams the file with Range too, and keeps hidden files and escapes out', async () => {
    const { server, token } = await setup()
    const base = `${server.url}/api/share/${token}/files/download?path=`
    const part = await ranged(`${base}media/long.mp3`, 'bytes=0-1023')
    expect(part.response.status).toBe(206)
    expect(part.response.headers.get('content-range')).toBe(`bytes 0-1023/${AUDIO.length}`)
    expect(part.body.equals(AUDIO.subarray(0, 1024))).toBe(true)
    const whole = await fetch(`${base}media/long.mp3`)
    expect(whole.status).toBe(200)
    expect(Buffer.from(await whole.arrayBuffer()).equals(AUDIO)).toBe(true)

    expect((await fetch(`${base}.secret.mp3`)).status).toBe(404)
    expect((await fetch(`${base}media/../.secret.mp3`)).status).toBe(404)
    const outside = await fetch(`${base}../../events.db`)
    expect(outside.status).toBeGreaterThanOrEqual(400)
    expect(outside.status).toBeLessThan(500)
    expect((await fetch(`${server.url}/api/share/${'x'.repeat(32)}/files/download?path=media/long.mp3`)).status).toBe(
      404,
    )
  })
})

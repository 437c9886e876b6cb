import { connect } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { MP3_SILENCE, PNG_1PX, WAV_TONE } from '../media/fixtures.js'
import { startMediaServer } from '../media/media-server.js'
import { apiClient, serverForFile } from './harness.js'

// Chutes Whisper as the reference's /api/transcribe calls it, played by a local server.
const whisper = await startMediaServer()
afterAll(() => whisper.close())

const MEDIA_ENV = {
  BERTH_TRANSCRIPTION_PROVIDER: 'chutes',
  BERTH_TRANSCRIPTION_API_KEY: 'whisper-key-1',
  BERTH_TRANSCRIPTION_BASE_URL: whisper.url,
  OPENAI_API_KEY: undefined,
}

describe('POST /api/transcribe and GET /api/media', () => {
  const server = serverForFile(MEDIA_ENV)
  const api = apiClient(() => server().server.url)
  const transcribe = (body: unknown) => api('/api/transcribe', { method: 'POST', body: JSON.stringify(body) })

  it('GET /api/media: only transcription is configured', async () => {
    const answer = await api('/api/media')
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ image: false, speech: false, transcription: true, video: false })
  })

  it('answers {transcription} as the reference does; the service gets the same audio_b64', async () => {
    whisper.enqueue('POST /transcribe', { body: [{ text: ' Hello' }, { text: ' world.' }] })
    const before = whisper.requests.length
    const answer = await transcribe({ audio_b64: WAV_TONE.toString('base64') })
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ transcription: 'Hello world.' })
    const sent = whisper.requests[before]
    expect(sent?.headers.authorization).toBe('Bearer whisper-key-1')
    expect(JSON.parse(sent?.body.toString() ?? '{}')).toEqual({ audio_b64: WAV_TONE.toString('base64') })

    // A data: URL (what FileReader gives) is taken too.
    whisper.enqueue('POST /transcribe', { body: [{ text: 'Again.' }] })
    const data = await transcribe({ audio_b64: `data:audio/mpeg;base64,${MP3_SILENCE.toString('base64')}` })
    expect(data.body).toEqual({ transcription: 'Again.' })

    // A recording of a few minutes (over fastify's default 1 MiB body limit) passes.
    const long = Buffer.concat([WAV_TONE, Buffer.alloc(3 * 1024 * 1024)])
    whisper.enqueue('POST /transcribe', { body: [{ text: 'Long.' }] })
    expect((await transcribe({ audio_b64: long.toString('base64') })).body).toEqual({ transcription: 'Long.' })
  })

  it('missing audio, bad base64 and bytes that are not audio are refused before the service is called', async () => {
    const before = whisper.requests.length
    const missing = await transcribe({})
    expect(missing.status).toBe(400)
    expect(missing.body).toMatchObject({ code: 'INVALID_REQUEST', error: 'Audio data is required (audio_b64).' })
    expect((await transcribe({ audio_b64: '' })).status).toBe(400)
    const bad = await transcribe({ audio_b64: 'not base64 at all!' })
    expect(bad.status).toBe(400)
    expect(bad.body.error).toBe('audio_b64 is not valid base64.')
    const picture = await transcribe({ audio_b64: PNG_1PX.toString('base64') })
    expect(picture.status).toBe(415)
    expect(picture.body.error).toMatch(/^The recording is not audio/)
    expect(whisper.requests.length).toBe(before)
  })

  it('a body over the limit (25 MB of audio as base64) is 413 with an {error}', async () => {
    const before = whisper.requests.length
    const huge = await postDeclaredLength(`${server().server.url}/api/transcribe`, 36 * 1024 * 1024)
    expect(huge.status).toBe(413)
    expect(huge.body.code).toBe('PAYLOAD_TOO_LARGE')
    expect(typeof huge.body.error).toBe('string')
    expect(whisper.requests.length).toBe(before)
  })

  it('a failing service is 502 with an {error} after the retries', async () => {
    whisper.enqueue('POST /transcribe', { status: 500, body: 'down' }, { status: 500, body: 'down' })
    const before = whisper.requests.length
    const failed = await transcribe({ audio_b64: WAV_TONE.toString('base64') })
    expect(failed.status).toBe(502)
    expect(failed.body.code).toBe('MEDIA_REQUEST_FAILED')
    expect(failed.body.error).toContain('answered HTTP 500: down')
    expect(whisper.requests.length - before).toBe(2)
  })

  it('without a transcription provider: 503 MEDIA_NOT_CONFIGURED, and /api/media says false', async () => {
    await server().restart({
      BERTH_TRANSCRIPTION_PROVIDER: undefined,
      BERTH_TRANSCRIPTION_API_KEY: undefined,
      BERTH_TRANSCRIPTION_BASE_URL: undefined,
    } as unknown as Record<string, string>)
    expect((await api('/api/media')).body).toEqual({ image: false, speech: false, transcription: false, video: false })
    const refused = await transcribe({ audio_b64: WAV_TONE.toString('base64') })
    expect(refused.status).toBe(503)
    expect(refused.body.code).toBe('MEDIA_NOT_CONFIGURED')
    expect(refused.body.error).toMatch(/^No transcription provider is configured/)
  })
})

/**
 * Send only the head of a POST that declares a `bytes`-long JSON body, and read the answer: the server judges
 * the declared length before reading any of it. (Sending the whole body races the server closing the socket
 * on it, which can lose the answer to a reset.)
 */
function postDeclaredLength(url: string, bytes: number): Promise<{ status: number; body: any }> {
  const { hostname, port, pathname } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    const received: Buffer[] = []
    const finish = () => {
      const text = Buffer.concat(received).toString('utf8')
      const match = /^HTTP\/1\.1 (\d{3})[\s\S]*?\r\n\r\n([\s\S]*)$/.exec(text)
      if (match === null) return reject(new Error(`no HTTP answer: ${text.slice(0, 200)}`))
      try {
        resolve({ status: Number(match[1]), body: JSON.parse(match[2] ?? '') })
        socket.destroy()
      } catch {
        // the body is still arriving
      }
    }
    socket.on('data', (chunk) => {
      received.push(chunk)
      finish()
    })
    socket.on('error', reject)
    socket.on('close', finish)
    socket.write(
      `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${bytes}\r\n\r\n{"audio_b64":"AAAA`,
    )
  })
}

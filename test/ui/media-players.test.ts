import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dataPaths } from '../../src/storage/data-root.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { startTestServer, type TestServer } from '../helpers/berth-server.js'
import { PNG_1PX } from '../helpers/images.js'
import { ensureWebBuild, launchChromium, screenshot } from './browser.js'

// Globals of the functions that run in the page (this project compiles without the DOM library).
declare const document: any, MediaRecorder: any, Blob: any, btoa: any

/**
 * Generated media in the web UI, in real chromium: a session whose log holds
 * an image, speech and a video made by the media tools (events appended
 * through the store, files written into the workspace) shows the image and
 * plays the audio and video in the chat cards, in the files panel and in the
 * shared replay; a deployed site embeds them by relative URL.
 */
const SESSION = '5d3c1f0e-8a7b-4c2d-9e1f-0a1b2c3d4e5f'
const DEVICE = 'media-owner-device'

let t: TestServer
let browser: Browser
let wav: Buffer
let webm: Buffer
/** A local speech service (OpenAI's `/v1/audio/speech`) answering with `wav`, for the end-to-end run. */
let speech: http.Server
const speechRequests: Record<string, unknown>[] = []

/** A real 16-bit mono PCM WAV: half a second of a 440 Hz tone. */
function toneWav(seconds = 0.5, rate = 8000): Buffer {
  const samples = Math.round(seconds * rate)
  const data = Buffer.alloc(samples * 2)
  for (let i = 0; i < samples; i++)
    data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 8000), i * 2)
  const header = Buffer.alloc(44)
  header.write('RIFF', 0)
  header.writeUInt32LE(36 + data.length, 4)
  header.write('WAVEfmt ', 8)
  header.writeUInt32LE(16, 16) // fmt chunk size
  header.writeUInt16LE(1, 20) // PCM
  header.writeUInt16LE(1, 22) // mono
  header.writeUInt32LE(rate, 24)
  header.writeUInt32LE(rate * 2, 28) // bytes per second
  header.writeUInt16LE(2, 32) // block align
  header.writeUInt16LE(16, 34) // bits per sample
  header.write('data', 36)
  header.writeUInt32LE(data.length, 40)
  return Buffer.concat([header, data])
}

/** A real PNG of random RGB pixels: 1400×1300 is over the 5 MiB the content route inlines. */
function noisePng(width = 1400, height = 1300): Buffer {
  const rows = Buffer.alloc((width * 3 + 1) * height)
  for (let i = 0; i < rows.length; i++) rows[i] = (i * 2654435761) >>> 24
  for (let y = 0; y < height; y++) rows[y * (width * 3 + 1)] = 0 // filter: none
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(data.length, 0)
    head.write(type, 4)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
    return Buffer.concat([head, data, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8) // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 0 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/** A real WebM (VP8) made by chromium itself: a canvas recorded for under a second (no ffmpeg needed). */
async function recordedWebm(): Promise<Buffer> {
  const page = await browser.newPage()
  const base64: string = await page.evaluate(async () => {
    const canvas = document.createElement('canvas')
    canvas.width = 64
    canvas.height = 48
    document.body.append(canvas)
    const ctx = canvas.getContext('2d')
    const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm;codecs=vp8' })
    const chunks: any[] = []
    recorder.ondataavailable = (event: any) => chunks.push(event.data)
    const stopped = new Promise((resolve) => {
      recorder.onstop = resolve
    })
    let frame = 0
    const paint = setInterval(() => {
      ctx.fillStyle = frame++ % 2 ? '#c00' : '#00c'
      ctx.fillRect(0, 0, 64, 48)
    }, 40)
    recorder.start(100)
    await new Promise((resolve) => setTimeout(resolve, 700))
    recorder.stop()
    await stopped
    clearInterval(paint)
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer())
    let binary = ''
    for (const byte of bytes) binary += String.fromCharCode(byte)
    return btoa(binary)
  })
  await page.close()
  return Buffer.from(base64, 'base64')
}

/** The session as the media tools would leave it: files in the workspace, calls and results in the log. */
async function seedSession(root: string): Promise<void> {
  const paths = dataPaths(root)
  const workspace = join(paths.workspaces, SESSION)
  await mkdir(join(workspace, 'media'), { recursive: true })
  await mkdir(join(workspace, 'site'), { recursive: true })
  await writeFile(join(workspace, 'media', 'cat.png'), PNG_1PX)
  await writeFile(join(workspace, 'media', 'chart.png'), PNG_1PX)
  await writeFile(join(workspace, 'media', 'big.png'), noisePng())
  await writeFile(join(workspace, 'media', 'hello.wav'), wav)
  await writeFile(join(workspace, 'media', 'clip.webm'), webm)
  await writeFile(
    join(workspace, 'site', 'index.html'),
    '<!doctype html><title>media</title><img id="pic" src="pic.png">' +
      '<audio id="sound" src="sound.wav" preload="auto" controls></audio>' +
      '<video id="clip" src="media/clip.webm" preload="auto" controls></video>',
  )
  await writeFile(join(workspace, 'site', 'pic.png'), PNG_1PX)
  await writeFile(join(workspace, 'site', 'sound.wav'), wav)
  await mkdir(join(workspace, 'site', 'media'), { recursive: true })
  await writeFile(join(workspace, 'site', 'media', 'clip.webm'), webm)

  const store = await SqliteStore.open({ file: paths.database })
  try {
    await store.createSession({ id: SESSION, workspaceDir: workspace, deviceId: DEVICE })
    const url = (path: string) => `http://127.0.0.1:8000/workspace/${SESSION}/${path}`
    const call = (id: string, name: string, input: Record<string, unknown>, result: string, extra = {}) => [
      { type: 'tool_call', content: { tool_call_id: id, tool_name: name, tool_input: input } },
      { type: 'tool_result', content: { tool_call_id: id, tool_name: name, result, ...extra } },
    ]
    await store.appendMany(SESSION, [
      { type: 'user_message', content: { text: 'Make a picture, a greeting and a clip', files: [] } },
      ...call(
        'call_image',
        'generate_image_from_text',
        { prompt: 'a cat', output_filename: 'media/cat.png' },
        `Generated an image from the prompt. Saved to media/cat.png (image/png, 70 B). URL: ${url('media/cat.png')}`,
        { images: [{ path: 'media/cat.png', media_type: 'image/png' }] },
      ),
      // An image too large for the inline content route: the card loads it by URL.
      ...call(
        'call_big',
        'generate_image_from_text',
        { prompt: 'noise', output_filename: 'media/big.png', width: 1400, height: 1300 },
        `Generated an image from the prompt. Saved to media/big.png (image/png, 5.5 MB). URL: ${url('media/big.png')}`,
        { images: [{ path: 'media/big.png', media_type: 'image/png' }] },
      ),
      ...call(
        'call_audio',
        'generate_audio_response',
        { text: 'Hello there', output_filename: 'media/hello.wav' },
        `Generated speech with the voice alloy. Saved to media/hello.wav (audio/wav, 7.9 KB). URL: ${url('media/hello.wav')}`,
      ),
      ...call(
        'call_video',
        'generate_video_from_text',
        { prompt: 'colours', output_filename: 'media/clip.webm' },
        `Generated a video from the prompt. Saved to media/clip.webm (video/webm, 1.6 KB). URL: ${url('media/clip.webm')}`,
      ),
      // Any tool naming a workspace image by URL gets it shown; a file that is gone says so.
      ...call(
        'call_chart',
        'bash',
        { command: 'python plot.py' },
        `Chart written: ${url('media/chart.png')}\nOld take: ${url('media/gone.wav')}`,
      ),
      // A tool that says it wrote a file which is not there: the card says it cannot play it.
      ...call(
        'call_lost',
        'generate_audio_response',
        { text: 'Lost', output_filename: 'media/lost.mp3' },
        'Generated audio saved to media/lost.mp3',
      ),
      { type: 'agent_response', content: { text: 'All three are made.' } },
    ])
  } finally {
    await store.close()
  }
}

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-ui-media-'))
  const [, launched] = await Promise.all([ensureWebBuild(), launchChromium()])
  browser = launched
  wav = toneWav()
  webm = await recordedWebm()
  await seedSession(root)
  speech = http.createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      speechRequests.push({ path: request.url, ...JSON.parse(Buffer.concat(chunks).toString() || '{}') })
      response.writeHead(200, { 'content-type': 'audio/wav' }).end(wav)
    })
  })
  await new Promise<void>((resolve) => speech.listen(0, '127.0.0.1', resolve))
  const speechUrl = `http://127.0.0.1:${(speech.address() as AddressInfo).port}/v1`
  t = await startTestServer(root, {
    env: { BERTH_SPEECH_BASE_URL: speechUrl, BERTH_SPEECH_API_KEY: 'test-speech-key', BERTH_SPEECH_PROVIDER: 'openai' },
  })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await t?.stop()
  if (t) await rm(t.root, { recursive: true, force: true })
  await new Promise((resolve) => speech?.close(resolve))
})

async function ownerContext(): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 } })
  context.setDefaultTimeout(10_000)
  await context.addCookies([{ name: 'device_id', value: DEVICE, url: t.server.url }])
  return context
}

/** An image's decoded width once it finished loading (0: it failed). */
async function imageWidth(img: Locator): Promise<number> {
  await img.waitFor()
  const handle = await img.elementHandle()
  await img.page().waitForFunction((el: any) => el.complete === true, handle)
  return img.evaluate((el: any) => el.naturalWidth as number)
}

/** Waits until a media element has loaded at least its metadata (readyState ≥ 1), and reports it. */
async function loadedMedia(element: Locator) {
  await element.waitFor({ state: 'attached' })
  const handle = await element.elementHandle()
  await element.page().waitForFunction((el: any) => el.readyState >= 1 || el.error !== null, handle)
  return element.evaluate((el: any) => ({
    readyState: el.readyState as number,
    error: el.error ? (el.error.code as number) : null,
    src: String(el.currentSrc),
    videoWidth: (el.videoWidth as number | undefined) ?? null,
  }))
}

/** What each card shows: the image card's image, the speech card's player, the video card's player, the chart. */
async function checkChat(page: Page): Promise<void> {
  const card = (tool: string) => page.locator(`.tool-card[data-tool="${tool}"]`)
  expect(await imageWidth(page.locator('.tool-image img[alt="media/cat.png"]'))).toBe(1)
  expect(await imageWidth(page.locator('.tool-image img[alt="media/big.png"]'))).toBe(1400)

  const audio = await loadedMedia(page.locator('.tool-card .media-preview[data-path="media/hello.wav"] audio'))
  expect(audio.error).toBeNull()
  expect(audio.readyState).toBeGreaterThanOrEqual(1)
  expect(audio.src).toContain('hello.wav')

  const video = await loadedMedia(card('generate_video_from_text').locator('video'))
  expect(video.error).toBeNull()
  expect(video.readyState).toBeGreaterThanOrEqual(1)
  expect(video.videoWidth).toBe(64)

  const lost = page.locator('.tool-card .media-preview[data-path="media/lost.mp3"]')
  await lost.getByText('Cannot play this audio').waitFor()
  expect(await lost.locator('audio').count()).toBe(0)

  const bash = card('bash')
  expect(await imageWidth(bash.locator('.media-preview[data-path="media/chart.png"] img'))).toBe(1)
  // A URL in a result that names no file is hidden once it fails, not explained.
  await bash.locator('.media-preview[data-path="media/gone.wav"][data-failed][hidden]').waitFor({ state: 'attached' })
  expect(await bash.locator('.media-preview[data-path="media/gone.wav"]').isVisible()).toBe(false)
}

/** The files panel: select each file of media/ and check the viewer shows or plays it. */
async function checkFilesPanel(page: Page): Promise<void> {
  const panel = page.locator('#workspace-panel')
  await panel.getByRole('button', { name: 'media', exact: true }).click()
  await panel.getByRole('button', { name: /cat\.png/ }).click()
  expect(await imageWidth(panel.locator('.file-viewer img'))).toBe(1)
  await panel.getByRole('button', { name: /hello\.wav/ }).click()
  expect((await loadedMedia(panel.locator('.file-viewer audio'))).readyState).toBeGreaterThanOrEqual(1)
  await panel.getByRole('button', { name: /clip\.webm/ }).click()
  const video = await loadedMedia(panel.locator('.file-viewer video'))
  expect(video.error).toBeNull()
  expect(video.videoWidth).toBe(64)
}

describe('generated media in the web UI (real chromium)', () => {
  it('shows the image and plays the audio and video in the chat, seeking by Range, and in the files panel', async () => {
    const owner = await ownerContext()
    const page = await owner.newPage()
    const ranged: { url: string; status: number; range: string | null }[] = []
    page.on('response', (response) => {
      if (/\/api\/files\/download\?/.test(response.url())) {
        ranged.push({
          url: response.url(),
          status: response.status(),
          range: response.headers()['content-range'] ?? null,
        })
      }
    })
    await page.goto(`${t.server.url}/session/${SESSION}`)
    await page.getByText('All three are made.').waitFor()
    await checkChat(page)
    await screenshot(page, 'media-chat')

    // Chromium asks for media with `Range: bytes=0-`; the route answers 206 with Content-Range.
    const video = ranged.find((r) => r.url.includes('clip.webm'))
    expect(video?.status).toBe(206)
    expect(video?.range).toBe(`bytes 0-${webm.length - 1}/${webm.length}`)

    await checkFilesPanel(page)
    await screenshot(page, 'media-files-panel')
    await owner.close()
  })

  it('replays them through a share link, in the chat and the files panel, with no device of the session', async () => {
    const made = await fetch(`${t.server.url}/api/sessions/${SESSION}/share`, {
      method: 'POST',
      headers: { 'x-device-id': DEVICE, 'content-type': 'application/json' },
      body: '{}',
    })
    const token = ((await made.json()) as { share: { token: string } }).share.token
    const viewer = await browser.newContext({ viewport: { width: 1280, height: 820 } })
    viewer.setDefaultTimeout(15_000)
    const page = await viewer.newPage()
    await page.goto(`${t.server.url}/share/${token}`)
    await page.getByText('All three are made.').waitFor()
    await checkChat(page)
    // The players load from the share link's own file route.
    const audioSrc = await page.locator('.media-preview[data-path="media/hello.wav"] audio').getAttribute('src')
    expect(audioSrc).toMatch(new RegExp(`^/api/share/${token}/files/download\\?path=media%2Fhello\\.wav`))
    await checkFilesPanel(page)
    await screenshot(page, 'media-shared')
    await viewer.close()
  })

  it('end to end: the agent calls generate_audio_response, the bytes land in the workspace, the card plays them', async () => {
    t.llm.enqueue(
      {
        toolCalls: [
          {
            id: 'call_speak',
            name: 'generate_audio_response',
            arguments: { text: 'Hello from berth', output_filename: 'spoken/hello.wav' },
          },
        ],
      },
      { text: 'Done speaking.' },
    )
    const owner = await ownerContext()
    const page = await owner.newPage()
    await page.goto(`${t.server.url}/`)
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('Say hello')
    await page.getByRole('textbox', { name: 'Message', exact: true }).press('Enter')
    await page.getByText('Done speaking.').waitFor({ timeout: 20_000 })
    expect(speechRequests.at(-1)).toMatchObject({ path: '/v1/audio/speech', input: 'Hello from berth' })

    const sessionId = page.url().split('/').pop() ?? ''
    const saved = await readFile(join(dataPaths(t.root).workspaces, sessionId, 'spoken', 'hello.wav'))
    expect(saved.equals(wav)).toBe(true)
    const card = page.locator('.tool-card[data-tool="generate_audio_response"]')
    expect(await card.getAttribute('data-status')).toBe('done')
    const audio = await loadedMedia(card.locator('.media-preview[data-path="spoken/hello.wav"] audio'))
    expect(audio.error).toBeNull()
    expect(audio.readyState).toBeGreaterThanOrEqual(1)
    await owner.close()
  })

  it('a deployed site embeds an image, audio and video by relative URL', async () => {
    const context = await browser.newContext()
    context.setDefaultTimeout(10_000)
    const page = await context.newPage()
    const clipStatus = page.waitForResponse((r) => r.url().endsWith('/site/media/clip.webm')).then((r) => r.status())
    await page.goto(`${t.server.url}/workspace/${SESSION}/site/index.html`)
    expect(await imageWidth(page.locator('#pic'))).toBe(1)
    const sound = await loadedMedia(page.locator('#sound'))
    expect(sound.error).toBeNull()
    expect(sound.readyState).toBeGreaterThanOrEqual(1)
    const clip = await loadedMedia(page.locator('#clip'))
    expect(clip.error).toBeNull()
    expect(clip.videoWidth).toBe(64)
    // The static route answers chromium's media request by Range too.
    expect(await clipStatus).toBe(206)
    await context.close()
  })
})

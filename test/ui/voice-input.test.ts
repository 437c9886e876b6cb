import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../helpers/berth-server.js'
import { ensureWebBuild, screenshot } from './browser.js'

/**
 * Voice input in real chromium: its fake microphone (a beeping test signal)
 * is recorded by the composer's MediaRecorder, berth's `POST /api/transcribe`
 * sends it to a local server speaking OpenAI's `/v1/audio/transcriptions`
 * (multipart in, `{"text"}` out), and the transcript lands in the composer
 * after what was typed. Without a transcription provider there is no button.
 */
const SAID = 'draw a red circle'

interface Upload {
  path: string
  contentType: string
  body: Buffer
}

let t: TestServer
let browser: Browser
let transcriber: http.Server
let transcriberUrl = ''
const uploads: Upload[] = []
/** The status the fake service answers next (200 with the transcript, or an error). */
let nextStatus = 200

beforeAll(async () => {
  transcriber = http.createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      uploads.push({
        path: request.url ?? '',
        contentType: String(request.headers['content-type']),
        body: Buffer.concat(chunks),
      })
      if (!/\/audio\/transcriptions$/.test(request.url ?? '')) {
        response.writeHead(404).end()
        return
      }
      if (nextStatus !== 200) {
        response.writeHead(nextStatus, { 'content-type': 'application/json' })
        response.end(JSON.stringify({ error: { message: 'the service fell over', type: 'server_error' } }))
        return
      }
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ text: ` ${SAID} ` }))
    })
  })
  await new Promise<void>((resolve) => transcriber.listen(0, '127.0.0.1', resolve))
  transcriberUrl = `http://127.0.0.1:${(transcriber.address() as AddressInfo).port}/v1`

  const [, server, launched] = await Promise.all([
    ensureWebBuild(),
    mkdtemp(join(tmpdir(), 'berth-ui-voice-')).then((root) =>
      startTestServer(root, {
        env: {
          BERTH_TRANSCRIPTION_BASE_URL: transcriberUrl,
          BERTH_TRANSCRIPTION_API_KEY: 'test-transcription-key',
          BERTH_TRANSCRIPTION_PROVIDER: 'openai',
        },
      }),
    ),
    // Chromium's fake microphone; permission is granted (or not) per context below.
    chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--use-fake-device-for-media-stream',
      ],
    }),
  ])
  t = server
  browser = launched
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await t?.stop()
  if (t) await rm(t.root, { recursive: true, force: true })
  await new Promise((resolve) => transcriber?.close(resolve))
})

async function composer(options: { microphone: boolean }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 } })
  context.setDefaultTimeout(15_000)
  if (options.microphone) await context.grantPermissions(['microphone'], { origin: t.server.url })
  const page = await context.newPage()
  const media = page.waitForResponse((response) => new URL(response.url()).pathname === '/api/media')
  await page.goto(`${t.server.url}/`)
  await media
  return { context, page }
}

const message = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true })

/** Record about a second of the fake microphone, then stop (which sends it). */
async function speak(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Voice input' }).click()
  const stop = page.getByRole('button', { name: 'Stop recording and transcribe' })
  await stop.waitFor()
  expect(await stop.getAttribute('aria-pressed')).toBe('true')
  await page.waitForTimeout(1000)
  await stop.click()
}

describe('voice input in the composer (real chromium, fake microphone)', () => {
  it('records, transcribes through POST /api/transcribe and appends the text to what is typed', async () => {
    const { context, page } = await composer({ microphone: true })
    await message(page).fill('Please')
    uploads.length = 0
    nextStatus = 200
    await speak(page)
    await page.waitForFunction(
      (expected: string) => (globalThis as any).document.querySelector('textarea.composer-input')?.value === expected,
      `Please ${SAID}`,
    )
    await page.getByRole('button', { name: 'Voice input' }).waitFor()

    // The service got the recording as a multipart file: chromium's WebM (EBML magic), not empty.
    expect(uploads).toHaveLength(1)
    const [upload] = uploads
    expect(upload?.path).toBe('/v1/audio/transcriptions')
    expect(upload?.contentType).toMatch(/^multipart\/form-data/)
    const start = upload?.body.indexOf(Buffer.from([0x1a, 0x45, 0xdf, 0xa3])) ?? -1
    expect(start).toBeGreaterThan(0)
    expect((upload?.body.length ?? 0) - start).toBeGreaterThan(1000)
    await screenshot(page, 'voice-transcribed')

    // The composer still sends as usual; the transcript is part of the message.
    t.llm.enqueue({ text: 'A red circle, coming up.' })
    await message(page).press('Enter')
    await page.getByText('A red circle, coming up.').waitFor()
    expect(JSON.stringify(t.llm.requests.at(-1)?.body.messages)).toContain(`Please ${SAID}`)
    await context.close()
  })

  it('a failing service shows a clear error and keeps the typed text', async () => {
    const { context, page } = await composer({ microphone: true })
    await message(page).fill('Keep me')
    nextStatus = 500
    await speak(page)
    const alert = page.locator('.voice-error [role="alert"]')
    await alert.waitFor()
    expect(await alert.textContent()).toMatch(/media service/i)
    expect(await message(page).inputValue()).toBe('Keep me')
    await screenshot(page, 'voice-error')
    await page.getByRole('button', { name: 'Dismiss' }).click()
    expect(await alert.count()).toBe(0)
    nextStatus = 200
    await context.close()
  })

  it('a refused microphone says so and how to allow it, and sends nothing', async () => {
    const { context, page } = await composer({ microphone: false })
    await message(page).fill('Typed first')
    uploads.length = 0
    await page.getByRole('button', { name: 'Voice input' }).click()
    const alert = page.locator('.voice-error [role="alert"]')
    await alert.waitFor()
    expect(await alert.textContent()).toContain('Microphone access was denied')
    expect(await message(page).inputValue()).toBe('Typed first')
    expect(uploads).toHaveLength(0)
    await context.close()
  })

  it('without a transcription provider, GET /api/media says so and there is no microphone button', async () => {
    await t.restart({
      BERTH_TRANSCRIPTION_PROVIDER: 'off',
      BERTH_TRANSCRIPTION_BASE_URL: '',
      BERTH_TRANSCRIPTION_API_KEY: '',
    })
    const answer = await fetch(`${t.server.url}/api/media`)
    expect(answer.status).toBe(200)
    expect(((await answer.json()) as { transcription: boolean }).transcription).toBe(false)
    const { context, page } = await composer({ microphone: true })
    await page.getByRole('button', { name: /Attach/ }).waitFor()
    expect(await page.getByRole('button', { name: 'Voice input' }).count()).toBe(0)
    await context.close()
  })
})

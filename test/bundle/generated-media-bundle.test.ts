import { randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { importSessionBundle } from '../../src/bundle/import-session-bundle.js'
import { writeSessionBundle } from '../../src/bundle/write-session-bundle.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { Workspaces } from '../../src/workspace/workspaces.js'
import { openScriptedRuntime, type ScriptedRuntime } from '../agent/fixtures/scripted-runtime.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { MP3_SILENCE, PNG_1PX } from '../media/fixtures.js'
import { type MediaServer, startMediaServer } from '../media/media-server.js'

let llm: ScriptedLlm
let media: MediaServer
let runtime: ScriptedRuntime | undefined
afterEach(async () => {
  await runtime?.close()
  await llm?.close()
  await media?.close()
})

describe('generated media in a session bundle', () => {
  it('an image and a speech file the agent made survive export and import byte-exact', async () => {
    llm = await startScriptedOpenAi()
    media = await startMediaServer()
    const source = await tempDir()
    runtime = await openScriptedRuntime(source, llm.url, {
      env: {
        BERTH_IMAGE_API_KEY: 'img-key-123',
        BERTH_IMAGE_BASE_URL: `${media.url}/v1`,
        BERTH_SPEECH_API_KEY: 'tts-key-123',
        BERTH_SPEECH_BASE_URL: `${media.url}/v1`,
      },
    })
    media.enqueue('POST /v1/images/generations', { body: { data: [{ b64_json: PNG_1PX.toString('base64') }] } })
    media.enqueue('POST /v1/audio/speech', { body: MP3_SILENCE })
    llm.enqueue(
      {
        toolCalls: [
          {
            id: 'c1',
            name: 'generate_image_from_text',
            arguments: { prompt: 'dot', output_filename: 'media/dot.png' },
          },
          { id: 'c2', name: 'generate_audio_response', arguments: { text: 'Hi', output_filename: 'media/hi.mp3' } },
        ],
      },
      { text: 'Done.' },
    )
    const sessionId = randomUUID()
    await runtime.runs.start({ sessionId, text: 'Make a dot and say hi' })
    expect(await runtime.runs.wait(sessionId)).toMatchObject({ status: 'completed' })

    const bundle = join(await tempDir(), 'session.tar.gz')
    await writeSessionBundle(
      runtime.runtime.store,
      runtime.runtime.workspaceStorage,
      sessionId,
      createWriteStream(bundle),
    )
    await runtime.close()
    runtime = undefined

    const target = await tempDir()
    const store = await SqliteStore.open({ file: join(target, 'events.db') })
    const workspaces = new Workspaces({ root: join(target, 'workspace'), quotaBytes: null })
    try {
      const result = await importSessionBundle(store, workspaces, createReadStream(bundle))
      expect(result.sessionId).toBe(sessionId)
      const dir = workspaces.dirFor(sessionId)
      expect((await readFile(join(dir, 'media/dot.png'))).equals(PNG_1PX)).toBe(true)
      expect((await readFile(join(dir, 'media/hi.mp3'))).equals(MP3_SILENCE)).toBe(true)
      const { events } = await store.readEvents(sessionId, { limit: 100 })
      const imageResult = events.find(
        (event) => event.type === 'tool_result' && event.payload.includes('media/dot.png'),
      )
      expect(JSON.parse(imageResult?.payload ?? '{}').content.images).toEqual([
        { path: 'media/dot.png', media_type: 'image/png' },
      ])
    } finally {
      await store.close()
    }
  })
})

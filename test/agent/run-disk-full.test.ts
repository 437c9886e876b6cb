import { randomUUID } from 'node:crypto'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { TransientEvent } from '../../src/core/events.js'
import type { LlmStreamPart } from '../../src/llm/types.js'
import type { StoredEvent } from '../../src/store/types.js'
import { tryMount, unmount } from '../helpers/mount.js'
import { tempDir } from '../helpers/temp-dir.js'
import { eventsOf, type Harness, openHarness } from './fixtures/harness.js'
import { finish, ScriptProvider, type ScriptStep, text } from './fixtures/script-provider.js'

/** Write into `file` until the file system refuses: nothing is left free. */
async function fillDisk(file: string): Promise<void> {
  const handle = await open(file, 'w')
  const chunk = Buffer.alloc(64 * 1024, 1)
  try {
    for (;;) await handle.write(chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    await handle.close()
  }
}

/** A model step that fills the disk halfway through its answer, then ends as `rest` says. */
function fillsTheDisk(filler: string, rest: () => LlmStreamPart[]): ScriptStep {
  return () =>
    (async function* () {
      yield { type: 'text-delta' as const, text: 'Writing a long answer: ' }
      await fillDisk(filler)
      yield* rest()
    })()
}

/** A harness (store, workspaces) on a small tmpfs, or a skip where mounting is not allowed. */
async function onSmallDisk(ctx: { skip(note: string): never }, run: (h: Harness, filler: string) => Promise<void>) {
  const dir = join(await tempDir(), 'small-disk')
  if (!tryMount(dir, 'size=4m')) ctx.skip('cannot mount a tmpfs here (needs root on Linux); the test did not run')
  const filler = join(dir, 'filler')
  const harness = await openHarness(dir)
  try {
    await run(harness, filler)
  } finally {
    await rm(filler, { force: true })
    await harness.close()
    unmount(dir)
  }
}

/** Everything but the streamed tokens. */
function recordEnds(runs: { onTransient(id: string, l: (e: TransientEvent) => void): () => void }, sessionId: string) {
  const events: TransientEvent[] = []
  runs.onTransient(sessionId, (event) => {
    if (!event.type.endsWith('_delta')) events.push(event)
  })
  return events
}

describe('a run whose events cannot be stored (a real store on a full tmpfs)', () => {
  it('tells live viewers why and that it ended, marked not stored, publishes nothing stored-looking, and the session goes on once space is back', async (ctx) => {
    await onSmallDisk(ctx, async (harness, filler) => {
      const provider = new ScriptProvider([
        fillsTheDisk(filler, () => [{ type: 'text-delta', text: 'x'.repeat(600 * 1024) }, finish('stop')]),
        text('Space is back.'),
      ])
      const runs = harness.manager({ createProvider: () => provider, createTools: () => [] })
      const sessionId = randomUUID()
      const live = recordEnds(runs, sessionId)
      const published: StoredEvent[] = []
      harness.store.follow(sessionId, 0, (event) => published.push(event))

      await runs.start({ sessionId, text: 'write a lot', deviceId: 'web' })
      const outcome = await runs.wait(sessionId)
      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'DISK_FULL' } })
      expect(runs.isRunning(sessionId)).toBe(false)

      // Neither the answer nor the run's end reached the log, so followers of the log got nothing of them...
      expect((await eventsOf(harness.store, sessionId)).map((e) => e.type)).toEqual(['user_message'])
      expect(published.map((e) => e.type)).toEqual(['user_message'])
      // ...and live viewers are told, with frames that say they were not stored.
      expect(live).toEqual([
        {
          type: 'error',
          content: { message: expect.stringContaining('the disk is full'), error_code: 'DISK_FULL', stored: false },
        },
        {
          type: 'stream_complete',
          content: { status: 'failed', turns: 1, usage: { input_tokens: 10, output_tokens: 5 }, stored: false },
        },
      ])

      await rm(filler)
      await runs.start({ sessionId, text: 'try again', deviceId: 'web' })
      expect(await runs.wait(sessionId)).toMatchObject({ status: 'completed', answer: 'Space is back.' })
      const types = (await eventsOf(harness.store, sessionId)).map((e) => e.type)
      expect(types).toEqual(['user_message', 'user_message', 'agent_response', 'stream_complete'])
      expect(published.map((e) => e.type)).toEqual(types)
      expect(live).toHaveLength(2)
      expect(await harness.store.checkIntegrity()).toEqual(['ok'])
    })
  })

  it('also tells the run’s own failure, when that could not be stored either', async (ctx) => {
    await onSmallDisk(ctx, async (harness, filler) => {
      const provider = new ScriptProvider([
        fillsTheDisk(filler, () => {
          throw new Error('the model connection broke')
        }),
      ])
      const runs = harness.manager({ createProvider: () => provider, createTools: () => [] })
      const sessionId = randomUUID()
      const live = recordEnds(runs, sessionId)
      await runs.start({ sessionId, text: 'hello', deviceId: 'web' })
      expect(await runs.wait(sessionId)).toMatchObject({ status: 'failed', error: { code: 'AGENT_RUNTIME_ERROR' } })
      expect(live.map((e) => [e.type, (e.content as { error_code?: string }).error_code])).toEqual([
        ['error', 'AGENT_RUNTIME_ERROR'],
        ['error', 'DISK_FULL'],
        ['stream_complete', undefined],
      ])
      expect(live.every((e) => (e.content as { stored?: boolean }).stored === false)).toBe(true)
      expect((await eventsOf(harness.store, sessionId)).map((e) => e.type)).toEqual(['user_message'])
    })
  })

  it('sends nothing live when the end was stored: the stored events are the end', async () => {
    const harness = await openHarness(await tempDir())
    try {
      const runs = harness.manager({ createProvider: () => new ScriptProvider([text('Fine.')]), createTools: () => [] })
      const sessionId = randomUUID()
      const live = recordEnds(runs, sessionId)
      await runs.start({ sessionId, text: 'hello', deviceId: 'web' })
      expect(await runs.wait(sessionId)).toMatchObject({ status: 'completed' })
      expect(live).toEqual([])
      expect((await eventsOf(harness.store, sessionId)).at(-1)?.type).toBe('stream_complete')
    } finally {
      await harness.close()
    }
  })
})

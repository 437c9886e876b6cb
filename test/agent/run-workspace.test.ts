import { randomUUID } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defineTool } from '../../src/tools/tool.js'
import type { LocalFolder, WorkspaceKey, WorkspaceStorage } from '../../src/workspace/workspace-storage.js'
import { tempDir } from '../helpers/temp-dir.js'
import { type Harness, openHarness } from './fixtures/harness.js'
import { calls, ScriptProvider } from './fixtures/script-provider.js'

/** Writes straight into the run's folder, the way the shell and the editor do. */
const writeInFolder = defineTool({
  name: 'write_in_folder',
  description: 'Write a file into the run folder.',
  parameters: z.object({ name: z.string(), body: z.string() }),
  async execute(input, context) {
    await writeFile(join(context.workspaceDir, input.name), input.body)
    return { output: `wrote ${input.name} in ${context.workspaceDir}` }
  },
})
const complete = defineTool({
  name: 'complete',
  description: 'Finish with the answer.',
  parameters: z.object({ answer: z.string() }),
  async execute(input) {
    return { output: 'Task completed', finalAnswer: input.answer }
  },
})

/**
 * The local storage of the harness, except that `localFolder` hands out a
 * scratch copy elsewhere (as a remote backend does) whose `sync` writes its
 * files back, counting syncs and releases.
 */
function scratchStorage(inner: WorkspaceStorage, log: { syncs: number; releases: number; dirs: string[] }) {
  const storage: WorkspaceStorage = Object.create(inner)
  storage.localFolder = async (key: WorkspaceKey): Promise<LocalFolder> => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-scratch-'))
    log.dirs.push(dir)
    const sync = async () => {
      log.syncs++
      for (const name of await readdir(dir)) await inner.write(key, name, await readFile(join(dir, name)))
    }
    return {
      dir,
      sync,
      release: async () => {
        log.releases++
        await sync()
        await rm(dir, { recursive: true, force: true })
      },
    }
  }
  return storage
}

let harness: Harness
afterEach(async () => {
  await harness?.close()
})

describe('a run works in the folder its workspace storage hands out', () => {
  it('gives tools localFolder().dir, syncs after every tool call and releases the folder when the run ends', async () => {
    harness = await openHarness(await tempDir())
    const log = { syncs: 0, releases: 0, dirs: [] as string[] }
    const provider = new ScriptProvider([
      calls({ id: 'c1', name: 'write_in_folder', input: { name: 'one.txt', body: 'first' } }),
      calls({ id: 'c2', name: 'write_in_folder', input: { name: 'two.txt', body: 'second' } }),
      calls({ id: 'c3', name: 'complete', input: { answer: 'done' } }),
    ])
    const runs = harness.manager({
      createProvider: () => provider,
      createTools: () => [writeInFolder, complete],
      workspaceStorage: scratchStorage(harness.workspaces.storage, log),
    })
    const sessionId = randomUUID()
    await runs.start({ sessionId, text: 'write two files', deviceId: 'web' })
    expect((await runs.wait(sessionId))?.status).toBe('completed')

    expect(log.dirs).toHaveLength(1)
    // One sync after each of the three tool calls, one before the run gives up its lease, and the release's.
    expect(log.syncs).toBe(3 + 1 + 1)
    expect(log.releases).toBe(1)
    const storage = harness.workspaces.storage
    const read = async (p: string) => {
      const chunks: Buffer[] = []
      for await (const chunk of (await storage.read(sessionId, p)).body) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks).toString()
    }
    expect(await read('one.txt')).toBe('first')
    expect(await read('two.txt')).toBe('second')
    // The tool saw the scratch folder, not the storage's own.
    const second = provider.requests[2]?.messages.find((m) => m.role === 'tool' && m.toolCallId === 'c2')
    expect((second as { content?: string } | undefined)?.content).toContain(log.dirs[0])
  })
})

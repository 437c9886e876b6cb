import { createReadStream, createWriteStream } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { importSessionBundle } from '../../src/bundle/import-session-bundle.js'
import { writeSessionBundle } from '../../src/bundle/write-session-bundle.js'
import { isBerthError } from '../../src/core/errors.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { StoredEvent } from '../../src/store/types.js'
import { Workspaces } from '../../src/workspace/workspaces.js'
import { tempDir } from '../helpers/temp-dir.js'
import {
  binaryBytes,
  buildBerthRoot,
  LONG_EVENTS,
  S_FILES,
  S_LONG,
  snapshotTree,
  UNICODE_NAME,
} from '../migrate/fixtures/data-trees.js'
import { startTransferCli } from '../migrate/fixtures/transfer-cli-process.js'

async function openRoot(root: string) {
  const store = await SqliteStore.open({ file: join(root, 'events.db') })
  const workspaces = new Workspaces({ root: join(root, 'workspace'), quotaBytes: null })
  return { store, workspaces }
}

async function allEvents(store: SqliteStore, id: string): Promise<StoredEvent[]> {
  const { events } = await store.readEvents(id, { limit: 10_000 })
  return events
}

async function exportTo(root: string, id: string, file: string): Promise<void> {
  const { store, workspaces } = await openRoot(root)
  await writeSessionBundle(store, workspaces.storage, id, createWriteStream(file))
  await store.close()
}

describe('session bundles', () => {
  it('export then import into another root: it lists, replays and continues exactly like the original', async () => {
    const source = await tempDir()
    await buildBerthRoot(source)
    const bundle = join(await tempDir(), 's.tar.gz')
    await exportTo(source, S_FILES, bundle)
    const target = await tempDir()
    const { store, workspaces } = await openRoot(target)
    const result = await importSessionBundle(store, workspaces, createReadStream(bundle))
    expect(result).toMatchObject({ sessionId: S_FILES, remapped: false, eventIdsRemapped: 0, events: 2, files: 5 })

    const original = await openRoot(source)
    expect(await allEvents(store, S_FILES)).toEqual(await allEvents(original.store, S_FILES))
    const imported = await store.getSession(S_FILES)
    expect({ ...imported, workspaceDir: '' }).toEqual({
      ...(await original.store.getSession(S_FILES)),
      workspaceDir: '',
    })
    expect(imported?.workspaceDir).toBe(join(target, 'workspace', S_FILES))
    expect((await store.listSessions('device-a')).items.map((s) => [s.id, s.firstMessage])).toEqual([
      [S_FILES, 'Build a café site 🚀'],
    ])
    expect(await snapshotTree(join(target, 'workspace', S_FILES), { times: true })).toEqual(
      await snapshotTree(join(source, 'workspace', S_FILES), { times: true }),
    )
    expect(await readFile(await workspaces.resolve(S_FILES, `uploaded_files/${UNICODE_NAME}`), 'utf8')).toBe(
      'unicode ✓\n',
    )
    // It goes on where it stopped.
    const next = await store.append(S_FILES, { type: 'user_message', content: { text: 'and now?' } })
    expect(next.seq).toBe(3)
    await original.store.close()
    await store.close()
  })

  it('streams from one store into another without a file, 2,000 events byte for byte', async () => {
    const source = await tempDir()
    await buildBerthRoot(source)
    const from = await openRoot(source)
    const target = await tempDir()
    const to = await openRoot(target)
    const wire = new PassThrough()
    const [written, imported] = await Promise.all([
      writeSessionBundle(from.store, from.workspaces.storage, S_LONG, wire),
      importSessionBundle(to.store, to.workspaces, wire, { deviceId: 'new-device' }),
    ])
    expect(written.events).toBe(LONG_EVENTS)
    expect(imported.events).toBe(LONG_EVENTS)
    expect(await allEvents(to.store, S_LONG)).toEqual(await allEvents(from.store, S_LONG))
    expect((await to.store.listSessions('new-device')).items.map((s) => s.id)).toEqual([S_LONG])
    await from.store.close()
    await to.store.close()
  })

  it('remaps ids that are taken, the folder name included, and leaves the original alone', async () => {
    const root = await tempDir()
    await buildBerthRoot(root)
    const bundle = join(await tempDir(), 's.tar.gz')
    await exportTo(root, S_FILES, bundle)
    const { store, workspaces } = await openRoot(root)
    const before = await allEvents(store, S_FILES)

    const result = await importSessionBundle(store, workspaces, createReadStream(bundle))
    expect(result.remapped).toBe(true)
    expect(result.sessionId).not.toBe(S_FILES)
    expect(result.eventIdsRemapped).toBe(2)
    const copy = await allEvents(store, result.sessionId)
    expect(copy.map((e) => [e.seq, e.timestamp, e.type, e.payload])).toEqual(
      before.map((e) => [e.seq, e.timestamp, e.type, e.payload]),
    )
    expect(copy.some((e) => before.some((b) => b.id === e.id))).toBe(false)
    expect((await store.getSession(result.sessionId))?.workspaceDir).toBe(join(root, 'workspace', result.sessionId))
    expect(await readFile(join(root, 'workspace', result.sessionId, 'uploaded_files', 'photo.bin'))).toEqual(
      binaryBytes(),
    )
    expect(await allEvents(store, S_FILES)).toEqual(before)
    await store.close()
  })

  it('refuses a damaged bundle or one from a newer berth, and changes nothing', async () => {
    const root = await tempDir()
    await buildBerthRoot(root)
    const bundle = join(await tempDir(), 's.tar.gz')
    await exportTo(root, S_FILES, bundle)
    const tar = await gunzip(await readFile(bundle))

    const flipped = Buffer.from(tar)
    flipped[flipped.indexOf('unicode ✓')] = 0x55
    const newer = Buffer.from(tar.toString('latin1').replace('"version": 1', '"version": 9'), 'latin1')
    const target = await tempDir()
    const { store, workspaces } = await openRoot(target)
    for (const [bytes, message] of [
      [flipped, /fails its checksum/],
      [newer, /written by a newer berth/],
      [tar.subarray(0, 4096), /damaged or truncated|cut short/],
    ] as const) {
      const file = join(await tempDir(), 'bad.tar.gz')
      await writeFile(file, await gzip(bytes))
      const error = await importSessionBundle(store, workspaces, createReadStream(file)).catch((e: unknown) => e)
      expect(isBerthError(error, 'ARCHIVE_INVALID')).toBe(true)
      expect((error as Error).message).toMatch(message)
    }
    expect((await store.counts()).sessions).toBe(0)
    expect(await readdir(target)).toEqual(['events.db', 'events.db-shm', 'events.db-wal'])
    await store.close()
  })

  it('berth export and berth import from the command line', async () => {
    const source = await tempDir()
    await buildBerthRoot(source)
    const out = join(await tempDir(), 'cli.tar.gz')
    const exported = startTransferCli(['export', S_FILES, '--out', out], {
      cwd: source,
      env: { BERTH_DATA_DIR: source },
    })
    expect(await exported.exited).toBe(0)
    expect(exported.output().stdout).toMatch(`Exported session ${S_FILES} to ${out}: 2 events, 5 files.`)
    const target = await tempDir()
    const imported = startTransferCli(['import', out, '--json'], { cwd: target, env: { BERTH_DATA_DIR: target } })
    expect(await imported.exited).toBe(0)
    expect(JSON.parse(imported.output().stdout)).toMatchObject({ sessionId: S_FILES, events: 2, files: 5 })
  })
})

async function gunzip(data: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = []
  const unzip = createGunzip()
  unzip.on('data', (chunk: Buffer) => chunks.push(chunk))
  unzip.end(data)
  await new Promise((resolve) => unzip.on('end', resolve))
  return Buffer.concat(chunks)
}

async function gzip(data: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = []
  const zip = createGzip()
  const collect = new PassThrough()
  collect.on('data', (chunk: Buffer) => chunks.push(chunk))
  await pipeline(
    async function* () {
      yield data
    },
    zip,
    collect,
  )
  return Buffer.concat(chunks)
}

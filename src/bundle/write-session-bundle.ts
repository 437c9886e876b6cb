import { createHash } from 'node:crypto'
import path from 'node:path'
import type { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { BerthError } from '../core/errors.js'
import type { Store } from '../store/store.js'
import type { SessionRecord, StoredEvent } from '../store/types.js'
import { archiveFile } from '../transfer/archive-file.js'
import { TarWriter } from '../transfer/tar-writer.js'
import { walkTree } from '../transfer/tree-walk.js'
import { type LocalFolder, type WorkspaceStorage, workspaceKey } from '../workspace/workspace-storage.js'
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  type BundleChecksums,
  type BundleManifest,
  CHECKSUMS,
  EVENTS,
  MANIFEST,
  WORKSPACE,
} from './bundle-format.js'

export interface BundleSummary {
  sessionId: string
  events: number
  files: number
  /** Bytes of workspace files. */
  bytes: number
}

const PAGE = 5000

/**
 * Stream a session as a portable bundle (`.tar.gz`, see bundle-format.ts)
 * into `out`, which is ended. Events are taken up to the last one stored
 * when the export starts, so a session that goes on meanwhile still gives a
 * consistent bundle. Reads only: safe while the server runs, and what the
 * server streams for `GET /api/sessions/:id/export`. The workspace is read
 * from the storage's real folder (`localFolder`: the folder itself on local
 * disk), so modes, times and links travel as they are.
 *
 * @example
 *   const body = new PassThrough()
 *   void writeSessionBundle(store, storage, id, body).catch((err) => body.destroy(err))
 *   return reply.type('application/gzip').header('content-disposition', `attachment; filename="${id}.tar.gz"`).send(body)
 */
export async function writeSessionBundle(
  store: Store,
  storage: WorkspaceStorage,
  sessionId: string,
  out: Writable,
): Promise<BundleSummary> {
  const session = await store.getSession(sessionId)
  if (session === null) {
    throw new BerthError('SESSION_NOT_FOUND', `No session with id ${sessionId}.`, {
      details: { sessionId },
    })
  }
  // First pass: how many bytes events.jsonl will be (a tar header states it up front) and where to stop.
  let size = 0
  let count = 0
  let lastSeq = 0
  for await (const event of eventsOf(store, sessionId, Number.POSITIVE_INFINITY)) {
    size += Buffer.byteLength(eventLine(event))
    count++
    lastSeq = event.seq
  }
  const key = await workspaceKey(storage, session)
  const folder = (await storage.exists(key)) ? await storage.localFolder(key) : null
  try {
    return await writeBundle(store, session, folder, { count, size, lastSeq }, out)
  } finally {
    await folder?.release()
  }
}

async function writeBundle(
  store: Store,
  session: SessionRecord,
  folder: LocalFolder | null,
  { count, size, lastSeq }: { count: number; size: number; lastSeq: number },
  out: Writable,
): Promise<BundleSummary> {
  const sessionId = session.id
  const tree = folder === null ? [] : await walkTree(folder.dir)
  const gzip = createGzip()
  const done = pipeline(gzip, out)
  done.catch(() => undefined)
  const tar = new TarWriter(gzip)
  const checksums: BundleChecksums = { entries: [] }
  const summary: BundleSummary = { sessionId, events: count, files: 0, bytes: 0 }
  try {
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      version: BUNDLE_VERSION,
      exportedAt: new Date().toISOString(),
      session: {
        id: session.id,
        workspaceDir: session.workspaceDir,
        createdAt: session.createdAt,
        deviceId: session.deviceId,
        summary: session.summary,
        name: session.name,
        status: session.status,
        updatedAt: session.updatedAt,
        label: session.label,
      },
      events: { count, lastSeq },
    }
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)
    await tar.addBuffer(MANIFEST, manifestBytes)
    checksums.entries.push({ path: MANIFEST, type: 'file', size: manifestBytes.length, sha256: sha256(manifestBytes) })

    const hash = createHash('sha256')
    async function* lines(): AsyncGenerator<Uint8Array> {
      for await (const event of eventsOf(store, sessionId, lastSeq)) {
        const line = Buffer.from(eventLine(event))
        hash.update(line)
        yield line
      }
    }
    await tar.addFile(EVENTS, size, lines())
    checksums.entries.push({ path: EVENTS, type: 'file', size, sha256: hash.digest('hex') })

    for (const entry of tree) {
      const name = entry.path === '' ? WORKSPACE : `${WORKSPACE}/${entry.path}`
      const mtimeUs = Number(entry.mtimeNs / 1000n)
      const mtime = new Date(Math.floor(mtimeUs / 1000))
      if (entry.type === 'dir') {
        await tar.addDirectory(name, { mode: entry.mode, mtime })
        checksums.entries.push({ path: name, type: 'dir', mode: entry.mode, mtimeUs })
      } else if (entry.type === 'symlink') {
        await tar.addSymlink(name, entry.target ?? '', { mtime })
        checksums.entries.push({ path: name, type: 'symlink', target: entry.target ?? '', mtimeUs })
      } else if (entry.type === 'file') {
        const { sha256: digest } = await archiveFile(
          tar,
          name,
          path.join((folder as LocalFolder).dir, entry.path),
          entry,
        )
        checksums.entries.push({
          path: name,
          type: 'file',
          size: entry.size,
          sha256: digest,
          mode: entry.mode,
          mtimeUs,
        })
        summary.files++
        summary.bytes += entry.size
      }
    }
    await tar.addBuffer(CHECKSUMS, Buffer.from(`${JSON.stringify(checksums)}\n`))
    await tar.finish()
    gzip.end()
    await done
    return summary
  } catch (error) {
    gzip.destroy(error as Error)
    throw error
  }
}

/** A session's events in order, up to `lastSeq`, read a page at a time. */
async function* eventsOf(store: Store, sessionId: string, lastSeq: number): AsyncGenerator<StoredEvent> {
  let after = 0
  for (;;) {
    const page = await store.readEvents(sessionId, { after, limit: PAGE })
    for (const event of page.events) {
      if (event.seq > lastSeq) return
      yield event
    }
    if (page.nextAfter === null) return
    after = page.nextAfter
  }
}

function eventLine(event: StoredEvent): string {
  return `${JSON.stringify({ id: event.id, seq: event.seq, timestamp: event.timestamp, type: event.type, payload: event.payload })}\n`
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

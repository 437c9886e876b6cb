import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { BerthError } from '../../core/errors.js'
import { formatBytes } from '../../core/format-bytes.js'
import { normalizeRelativePath } from '../containment.js'
import { sanitizeFileName } from '../file-names.js'
import type {
  ByteRange,
  LocalFolder,
  WorkspaceEntry,
  WorkspaceKey,
  WorkspaceRead,
  WorkspaceStorage,
  WriteOptions,
} from '../workspace-storage.js'
import { WORKSPACE_SUBDIRS } from '../workspaces.js'
import type { WorkspaceFileIndex } from './file-index.js'
import { multipartUpload } from './multipart-upload.js'
import type { CachedFile, ReadCache } from './read-cache.js'
import { isNotFound, isPreconditionFailed, type StorageContext, storageFailure } from './s3-errors.js'
import { ObjectKeys, type S3Location } from './s3-location.js'
import { materialize, removeStaleScratch } from './scratch-folder.js'
import { MEMORY_LIMIT, type Spooled, SpoolLimitExceeded, spool } from './spool.js'

export interface S3StorageOptions {
  client: S3Client
  location: S3Location
  /** The endpoint the client talks to (AWS_ENDPOINT_URL_S3), for messages; undefined for AWS S3. */
  endpoint?: string
  index: WorkspaceFileIndex
  /** Local copies of small files, checked against the index's ETag (read-cache.ts); none when unset. */
  readCache?: ReadCache
  /** Size limit of one workspace in bytes; null for none. */
  quotaBytes: number | null
  /** Local folder for spooled uploads and the scratch copies of `localFolder` (e.g. `<data root>/scratch`). */
  scratchDir: string
  /**
   * The lease epoch this process holds for a workspace, if any: writes
   * without an explicit `epoch` use it, so a run's tools are fenced without
   * passing it around.
   */
  epochOf?: (key: WorkspaceKey) => number | undefined
}

export interface S3WriteOptions extends WriteOptions {
  /**
   * The writer's lease epoch. The write is refused (`WRITE_FENCED`) when the
   * file was written under a newer one, so an owner that lost its lease
   * cannot overwrite what the new owner wrote.
   */
  epoch?: number
}

/** Metadata berth keeps on each object (x-amz-meta-*): who wrote it, what it holds. */
const META_EPOCH = 'berth-epoch'
const META_SHA256 = 'berth-sha256'

/** Attempts at a conditional write before giving up on a file that keeps changing. */
const CONDITIONAL_ATTEMPTS = 5
/** Objects per DeleteObjects request (S3's maximum). */
const DELETE_BATCH = 1000

/**
 * Workspaces in an S3-compatible bucket (AWS S3, R2, B2, MinIO, Ceph
 * radosgw): one object per file at `<prefix>/workspace/<key>/<path>`. S3 has
 * no folders: a folder exists while anything lies below it, and an empty one
 * is kept by a zero-byte marker `<path>/` (the standard folders get one at
 * `create`; removing the last file of a folder leaves one, as a disk keeps
 * the folder). Symlinks cannot be stored.
 *
 * A PUT (or a multipart upload's completion) replaces an object atomically,
 * so readers see the old bytes or the new. Every write goes through the file
 * index (`WorkspaceFileIndex`): the quota is summed from it, and it is
 * conditional (If-Match on the indexed ETag, If-None-Match for a new file), so
 * a write made meanwhile by another instance is noticed and its epoch
 * compared before anything is replaced.
 */
export class S3WorkspaceStorage implements WorkspaceStorage {
  readonly kind = 's3' as const
  readonly keys: ObjectKeys
  private readonly client: S3Client
  private readonly bucket: string
  private readonly context: StorageContext
  /**
   * Workspaces seen to exist, so a write costs no listing to check it. Only
   * this process's own removal forgets one; a workspace removed by another
   * instance meanwhile would get the file back, as on a shared disk.
   */
  private readonly knownWorkspaces = new Set<WorkspaceKey>()
  /** Leftovers of dead processes in the scratch folder, cleared before the first copy is made. */
  private staleScratchRemoved: Promise<string[]> | null = null
  /** Send If-Match's ETag without quotes (learnt from the server; see `replace`). */
  private unquotedIfMatch = false

  constructor(private readonly options: S3StorageOptions) {
    this.client = options.client
    this.bucket = options.location.bucket
    this.keys = new ObjectKeys(options.location)
    this.context = { bucket: this.bucket, endpoint: options.endpoint }
  }

  /** Closes the S3 client's connections (at shutdown). */
  close(): void {
    this.client.destroy()
  }

  get quotaBytes(): number | null {
    return this.options.quotaBytes
  }

  async create(key: WorkspaceKey): Promise<void> {
    const markers = [this.keys.workspace(key), ...WORKSPACE_SUBDIRS.map((sub) => this.keys.folder(key, sub))]
    await Promise.all(markers.map((marker) => this.putMarker(marker)))
  }

  async exists(key: WorkspaceKey): Promise<boolean> {
    return this.hasAnyUnder(this.keys.workspace(key))
  }

  async stat(key: WorkspaceKey, relative: string): Promise<WorkspaceEntry | null> {
    const clean = normalizeRelativePath(relative, { allowRoot: true })
    if (clean !== '') {
      const head = await this.head(this.keys.file(key, clean))
      if (head) return head.entry(clean)
    }
    const folder = this.keys.folder(key, clean)
    const found = await this.call('Listing a folder', () =>
      this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: folder, MaxKeys: 1 })),
    )
    const first = found.Contents?.[0]
    if (first) return directory(clean, first.Key === folder ? first.LastModified : undefined)
    if (clean !== '') await this.assertWorkspace(key)
    return null
  }

  async read(key: WorkspaceKey, relative: string, options: { range?: ByteRange } = {}): Promise<WorkspaceRead> {
    const clean = normalizeRelativePath(relative)
    const range = options.range
    const objectKey = this.keys.file(key, clean)
    const cache = this.options.readCache
    const indexed = cache ? await this.options.index.get(key, clean) : null
    const cached = indexed && cache ? cache.lookup(objectKey, indexed.etag) : null
    if (cached) return fromCache(clean, cached, indexed?.etag ?? '', range)
    let answer: GetObjectCommandOutput
    try {
      answer = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: objectKey,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      )
    } catch (error) {
      if (isNotFound(error)) throw await this.missingFile(key, clean)
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416) {
        throw new BerthError('INVALID_REQUEST', `The range ${range?.start}-${range?.end} lies outside ${clean}`, {
          details: { path: clean, range },
        })
      }
      throw storageFailure(error, `Reading ${clean}`, this.context)
    }
    // `bytes 9000-9999/10000`: what was sent (an end past the size is cut to it) and the whole size.
    const contentRange = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(answer.ContentRange ?? '')
    const size = contentRange ? Number(contentRange[3]) : Number(answer.ContentLength ?? 0)
    const sent = contentRange ? { start: Number(contentRange[1]), end: Number(contentRange[2]) } : range
    const entry: WorkspaceEntry = {
      path: clean,
      type: 'file',
      size,
      mtimeMs: answer.LastModified?.getTime() ?? 0,
      etag: answer.ETag ?? '',
    }
    const body = answer.Body as Readable
    if (cache && !range && indexed?.etag === entry.etag && size <= cache.maxFileBytes) {
      // Small and current: keep a copy for the next read.
      const bytes = Buffer.from((await answer.Body?.transformToByteArray()) ?? [])
      await cache.store(objectKey, entry.etag, entry.mtimeMs, bytes)
      return { entry, body: Readable.from([bytes]) }
    }
    return range && sent ? { entry, body, range: sent } : { entry, body }
  }

  async write(
    key: WorkspaceKey,
    relative: string,
    data: Uint8Array | string | Readable,
    options: S3WriteOptions = {},
  ): Promise<WorkspaceEntry> {
    const clean = normalizeRelativePath(relative)
    await this.assertWorkspace(key)
    await this.assertNoFileAbove(key, clean)
    const epoch = options.epoch ?? this.options.epochOf?.(key)
    const replaced = options.freeName ? null : await this.options.index.get(key, clean)
    const room = await this.roomLeft(key, replaced?.size ?? 0)
    let spooled: Spooled
    try {
      spooled = await spool(data, room, this.options.scratchDir)
    } catch (error) {
      if (error instanceof SpoolLimitExceeded) throw await this.quotaError(key, error.received, replaced?.size ?? 0)
      throw error
    }
    try {
      if (options.freeName) return await this.writeUnderFreeName(key, clean, spooled, epoch ?? 0)
      // A file the index knows is no folder: only a new path needs the listing.
      if (!replaced && (await this.isFolder(key, clean))) {
        throw new BerthError('PATH_IS_A_FOLDER', `Cannot write a file over a folder: ${clean}`, {
          details: { path: clean },
        })
      }
      return await this.replace(key, clean, spooled, epoch)
    } finally {
      await spooled.dispose()
    }
  }

  async *list(key: WorkspaceKey, relative = '', options: { depth?: number } = {}): AsyncIterable<WorkspaceEntry> {
    const clean = normalizeRelativePath(relative, { allowRoot: true })
    const prefix = this.keys.folder(key, clean)
    const base = this.keys.workspace(key)
    const entries = new Map<string, WorkspaceEntry>()
    const depthOf = (p: string) => (clean === '' ? p.split('/').length : p.split('/').length - clean.split('/').length)
    const addFolders = (p: string) => {
      for (
        let parent = path.posix.dirname(p);
        parent !== '.' && parent !== clean;
        parent = path.posix.dirname(parent)
      ) {
        if (!entries.has(parent)) entries.set(parent, directory(parent))
      }
    }
    let found = false
    for await (const object of this.objects(prefix, options.depth === 1 ? '/' : undefined)) {
      found = true
      const name = object.key.slice(base.length)
      if (object.prefix) {
        const folder = name.replace(/\/$/, '')
        if (!entries.has(folder)) entries.set(folder, directory(folder))
        continue
      }
      if (name === '' || object.key === prefix) continue
      if (name.endsWith('/')) {
        const folder = name.slice(0, -1)
        entries.set(folder, directory(folder, object.lastModified))
      } else {
        entries.set(name, {
          path: name,
          type: 'file',
          size: object.size,
          mtimeMs: object.lastModified?.getTime() ?? 0,
          etag: object.etag,
        })
      }
      addFolders(name.replace(/\/$/, ''))
    }
    if (!found) {
      await this.assertWorkspace(key)
      if (clean !== '' && (await this.head(this.keys.file(key, clean)))) {
        throw new BerthError('PATH_INVALID', `${clean} is a file, not a folder`, { details: { path: clean } })
      }
      if (clean !== '')
        throw new BerthError('FILE_NOT_FOUND', `No folder ${clean} in workspace ${key}`, { details: { path: clean } })
    }
    const sorted = [...entries.values()]
      .filter((entry) => options.depth === undefined || depthOf(entry.path) <= options.depth)
      .sort((a, b) => comparePaths(a.path, b.path))
    yield* sorted
  }

  async remove(key: WorkspaceKey, relative: string): Promise<void> {
    const clean = normalizeRelativePath(relative, { allowRoot: true })
    if (clean === '') this.knownWorkspaces.delete(key)
    const doomed: string[] = []
    if (clean !== '') doomed.push(this.keys.file(key, clean))
    for await (const object of this.objects(this.keys.folder(key, clean))) doomed.push(object.key)
    const existed = doomed.length > 1 || (clean !== '' && (await this.head(this.keys.file(key, clean))) !== null)
    for (let i = 0; i < doomed.length; i += DELETE_BATCH) {
      const batch = doomed.slice(i, i + DELETE_BATCH)
      const answer = await this.call(`Removing ${clean || 'the workspace'}`, () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      )
      const failed = (answer.Errors ?? []).filter((error) => error.Code !== 'NoSuchKey')
      if (failed.length > 0) {
        throw new BerthError(
          'STORAGE_UNAVAILABLE',
          `Removing ${clean || 'the workspace'}: ${failed.length} objects could not be deleted (${failed[0]?.Code}: ${failed[0]?.Message})`,
          { details: { reason: 'delete_failed', bucket: this.bucket } },
        )
      }
    }
    for (const doomedKey of doomed) this.options.readCache?.forget(doomedKey)
    await this.options.index.remove(key, clean)
    // A disk keeps the folder a removed file was in; here the folder lives on only through a marker.
    const parent = path.posix.dirname(clean)
    if (existed && clean !== '' && parent !== '.') await this.putMarker(this.keys.folder(key, parent))
  }

  /** Bytes used by the workspace's files, from the file index (no listing of the bucket). */
  async usage(key: WorkspaceKey): Promise<number> {
    this.keys.workspace(key)
    return this.options.index.usage(key)
  }

  /**
   * Rebuild a workspace's file index from the bucket: for objects written
   * outside berth (a copy made with another tool) or an index that was lost.
   * Sizes and ETags come from the listing, SHA-256 and epoch from berth's
   * object metadata ('' and 0 when absent); rows for vanished files go.
   * Returns the number of files indexed.
   */
  async reindex(key: WorkspaceKey): Promise<number> {
    const base = this.keys.workspace(key)
    const seen = new Set<string>()
    for await (const object of this.objects(base)) {
      if (object.key.endsWith('/')) continue
      const relative = object.key.slice(base.length)
      const head = await this.head(object.key)
      if (!head) continue
      const indexed = head.indexed(relative)
      await this.options.index.remove(key, relative)
      await this.options.index.put(key, indexed)
      seen.add(relative)
    }
    for (const file of await this.options.index.list(key)) {
      if (!seen.has(file.path)) await this.options.index.remove(key, file.path)
    }
    return seen.size
  }

  async localFolder(key: WorkspaceKey): Promise<LocalFolder> {
    await this.assertWorkspace(key)
    this.staleScratchRemoved ??= removeStaleScratch(this.options.scratchDir).catch(() => [])
    await this.staleScratchRemoved
    return materialize(this, key, this.options.scratchDir)
  }

  /** Workspaces holding files and their bytes, from the index (no walk over the bucket): for /admin/stats. */
  totals(): Promise<{ workspaces: number; bytes: number }> {
    return this.options.index.totals()
  }

  /** The indexed files of a workspace (for `localFolder`'s sync). */
  indexedFiles(key: WorkspaceKey) {
    return this.options.index.list(key)
  }

  /** Keeps an empty folder (a zero-byte `<path>/` object). */
  async makeFolder(key: WorkspaceKey, relative: string): Promise<void> {
    await this.putMarker(this.keys.folder(key, normalizeRelativePath(relative)))
  }

  /** Removes an empty folder's marker (the folder goes once nothing lies below it). */
  async removeFolderMarker(key: WorkspaceKey, relative: string): Promise<void> {
    const marker = this.keys.folder(key, normalizeRelativePath(relative))
    await this.call('Removing a folder marker', () =>
      this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: [{ Key: marker }], Quiet: true } }),
      ),
    )
  }

  /**
   * Replaces `clean`, conditionally on what the index (or, when the index is
   * behind, the object itself) says is there, so a newer epoch is never
   * overwritten.
   */
  private async replace(
    key: WorkspaceKey,
    clean: string,
    spooled: Spooled,
    epoch: number | undefined,
  ): Promise<WorkspaceEntry> {
    const objectKey = this.keys.file(key, clean)
    let expected = await this.options.index.get(key, clean)
    let expectedEtag: string | null = expected?.etag ?? null
    for (let attempt = 0; attempt < CONDITIONAL_ATTEMPTS; attempt++) {
      // An unfenced write (an upload, outside any run) keeps the epoch the file had.
      const writtenEpoch = epoch ?? expected?.epoch ?? 0
      if (epoch !== undefined && expected && expected.epoch > epoch) throw fenced(clean, epoch, expected.epoch)
      try {
        const etag = await this.upload(objectKey, spooled, writtenEpoch, expectedEtag)
        this.options.readCache?.forget(objectKey)
        const entry: WorkspaceEntry = { path: clean, type: 'file', size: spooled.size, mtimeMs: Date.now(), etag }
        const recorded = await this.options.index.put(key, {
          path: clean,
          size: spooled.size,
          sha256: spooled.sha256,
          etag,
          epoch: writtenEpoch,
          mtimeMs: entry.mtimeMs,
        })
        if (!recorded && epoch !== undefined) {
          const newer = await this.options.index.get(key, clean)
          throw fenced(clean, epoch, newer?.epoch ?? epoch + 1)
        }
        return entry
      } catch (error) {
        if (!isPreconditionFailed(error)) throw error
        // Written meanwhile, by another instance or outside berth: look at the object itself.
        const head = await this.head(objectKey)
        if (head && expectedEtag !== null && head.etag === expectedEtag && !this.unquotedIfMatch) {
          // The ETag did match: this server compares If-Match without the quotes (Ceph 16 does).
          this.unquotedIfMatch = true
          continue
        }
        expectedEtag = head?.etag ?? null
        expected = head ? { ...head.indexed(clean) } : null
      }
    }
    throw new BerthError(
      'STORAGE_UNAVAILABLE',
      `Writing ${clean}: the file kept changing while it was written; try again`,
      {
        details: { reason: 'contention', path: clean },
      },
    )
  }

  private async writeUnderFreeName(
    key: WorkspaceKey,
    clean: string,
    spooled: Spooled,
    epoch: number,
  ): Promise<WorkspaceEntry> {
    const folder = path.posix.dirname(clean)
    const wanted = sanitizeFileName(path.posix.basename(clean))
    const dot = wanted.lastIndexOf('.')
    const [stem, ext] = dot > 0 && dot < wanted.length - 1 ? [wanted.slice(0, dot), wanted.slice(dot)] : [wanted, '']
    for (let n = 0; n < 100_000; n++) {
      const name = n === 0 ? wanted : `${stem}_${n}${ext}`
      const candidate = folder === '.' ? name : `${folder}/${name}`
      if ((await this.head(this.keys.file(key, candidate))) || (await this.isFolder(key, candidate))) continue
      try {
        const etag = await this.upload(this.keys.file(key, candidate), spooled, epoch, null)
        const mtimeMs = Date.now()
        await this.options.index.put(key, {
          path: candidate,
          size: spooled.size,
          sha256: spooled.sha256,
          etag,
          epoch,
          mtimeMs,
        })
        return { path: candidate, type: 'file', size: spooled.size, mtimeMs, etag }
      } catch (error) {
        if (!isPreconditionFailed(error)) throw error
        // Taken meanwhile: try the next name.
      }
    }
    throw new BerthError('PATH_INVALID', `No free file name for ${clean}`, { details: { path: clean } })
  }

  /**
   * One PUT for a small file, a multipart upload (parts of 8 MiB, four at a
   * time) for a large one. `expectedEtag` null means "only if nothing is
   * there", else "only if the object still has this ETag"; the condition
   * rides on the PUT, and on a multipart upload is also checked right before
   * its completion (not every server checks it there).
   */
  private async upload(
    objectKey: string,
    spooled: Spooled,
    epoch: number,
    expectedEtag: string | null,
  ): Promise<string> {
    const condition =
      expectedEtag === null
        ? { IfNoneMatch: '*' }
        : { IfMatch: this.unquotedIfMatch ? expectedEtag.replace(/^"|"$/g, '') : expectedEtag }
    const metadata = { [META_EPOCH]: String(epoch), [META_SHA256]: spooled.sha256 }
    try {
      if (spooled.buffer && spooled.size <= MEMORY_LIMIT) {
        const answer = await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: objectKey,
            Metadata: metadata,
            Body: spooled.buffer,
            ContentLength: spooled.size,
            ...condition,
          }),
        )
        return answer.ETag ?? ''
      }
      const etag = await multipartUpload({
        client: this.client,
        bucket: this.bucket,
        key: objectKey,
        size: spooled.size,
        metadata,
        readPart: (start, end) => spooled.slice(start, end),
        condition,
        partSize: MEMORY_LIMIT,
        parallel: 4,
        beforeComplete: async () => {
          const current = await this.head(objectKey)
          if ((current?.etag ?? null) !== expectedEtag) throw preconditionFailed()
        },
      })
      // Some servers (Ceph 16) answer the completion without the ETag.
      return etag ?? (await this.head(objectKey))?.etag ?? ''
    } catch (error) {
      if (isPreconditionFailed(error)) throw error
      throw storageFailure(error, `Writing ${objectKey}`, this.context)
    }
  }

  private async head(objectKey: string) {
    let answer: HeadObjectCommandOutput
    try {
      answer = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: objectKey }))
    } catch (error) {
      if (isNotFound(error)) return null
      throw storageFailure(error, `Looking at ${objectKey}`, this.context)
    }
    const etag = answer.ETag ?? ''
    const size = answer.ContentLength ?? 0
    const mtimeMs = answer.LastModified?.getTime() ?? 0
    const metadata = answer.Metadata ?? {}
    return {
      etag,
      entry: (p: string): WorkspaceEntry => ({ path: p, type: 'file', size, mtimeMs, etag }),
      indexed: (p: string) => ({
        path: p,
        size,
        etag,
        mtimeMs,
        sha256: metadata[META_SHA256] ?? '',
        epoch: Number(metadata[META_EPOCH] ?? 0) || 0,
      }),
    }
  }

  private async isFolder(key: WorkspaceKey, clean: string): Promise<boolean> {
    return this.hasAnyUnder(this.keys.folder(key, clean))
  }

  private async hasAnyUnder(prefix: string): Promise<boolean> {
    const answer = await this.call('Listing a folder', () =>
      this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 1 })),
    )
    return (answer.KeyCount ?? answer.Contents?.length ?? 0) > 0
  }

  /** Every object under `prefix` (or, with a delimiter, its objects and sub-prefixes), page by page. */
  private async *objects(
    prefix: string,
    delimiter?: string,
  ): AsyncIterable<{ key: string; size: number; etag: string; lastModified?: Date; prefix?: boolean }> {
    let token: string | undefined
    do {
      const page = await this.call('Listing a folder', () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            Delimiter: delimiter,
            ContinuationToken: token,
          }),
        ),
      )
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue
        yield { key: object.Key, size: object.Size ?? 0, etag: object.ETag ?? '', lastModified: object.LastModified }
      }
      for (const common of page.CommonPrefixes ?? []) {
        if (common.Prefix !== undefined) yield { key: common.Prefix, size: 0, etag: '', prefix: true }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  }

  private async putMarker(marker: string): Promise<void> {
    await this.call('Creating a folder', () =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: marker, Body: new Uint8Array(0), ContentLength: 0 }),
      ),
    )
  }

  private async assertWorkspace(key: WorkspaceKey): Promise<void> {
    if (this.knownWorkspaces.has(key)) return
    if (await this.exists(key)) {
      this.knownWorkspaces.add(key)
      return
    }
    throw new BerthError('WORKSPACE_NOT_FOUND', `No workspace ${key} in bucket ${this.bucket}`, {
      details: { key, bucket: this.bucket },
    })
  }

  /**
   * A file where a parent folder should be: the path cannot be written (as
   * ENOTDIR on a disk). Asked of the index, which every write through berth
   * updates, to spare a request per folder level.
   */
  private async assertNoFileAbove(key: WorkspaceKey, clean: string): Promise<void> {
    const parts = clean.split('/')
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/')
      if (await this.options.index.get(key, parent)) {
        throw new BerthError('PATH_INVALID', `Cannot write ${clean}: ${parent} is a file, not a folder`, {
          details: { path: clean, file: parent },
        })
      }
    }
  }

  private async roomLeft(key: WorkspaceKey, replacedSize: number): Promise<number | null> {
    const limit = this.options.quotaBytes
    if (limit === null) return null
    return Math.max(0, limit - (await this.options.index.usage(key)) + replacedSize)
  }

  private async quotaError(key: WorkspaceKey, incoming: number, replacedSize: number): Promise<BerthError> {
    const limit = this.options.quotaBytes ?? 0
    const used = await this.options.index.usage(key)
    const growth = incoming - replacedSize
    return new BerthError(
      'WORKSPACE_QUOTA_EXCEEDED',
      `The workspace ${key} is full: it uses ${formatBytes(used)} (${used} bytes) of its ${formatBytes(limit)} (${limit} bytes) limit, ` +
        `and this write needs ${formatBytes(growth)} (${growth} bytes) more at least. ` +
        'Delete files from the workspace, or raise the limit with BERTH_WORKSPACE_QUOTA (or --workspace-quota).',
      { details: { key, usedBytes: used, incomingBytes: incoming, limitBytes: limit } },
    )
  }

  private async missingFile(key: WorkspaceKey, clean: string): Promise<BerthError> {
    if (await this.isFolder(key, clean)) {
      return new BerthError('PATH_INVALID', `${clean} is a folder, not a file`, { details: { path: clean } })
    }
    await this.assertWorkspace(key)
    return new BerthError('FILE_NOT_FOUND', `No file ${clean} in workspace ${key}`, { details: { path: clean } })
  }

  private async call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send()
    } catch (error) {
      throw storageFailure(error, what, this.context)
    }
  }

  /**
   * Proves the bucket usable, for start-up, `/readyz` and `berth doctor`: it
   * exists and answers (HeadBucket), and a small write reads back the same
   * and is deleted (the canary, outside every workspace). Throws
   * `STORAGE_UNAVAILABLE` naming the setting to check.
   */
  async check(): Promise<{ bucketMs: number; canaryMs: number }> {
    const started = performance.now()
    await this.call(`Checking the bucket ${this.bucket}`, () =>
      this.client.send(new HeadBucketCommand({ Bucket: this.bucket })),
    )
    const bucketMs = performance.now() - started
    const canary = this.keys.canary(randomBytes(8).toString('hex'))
    const bytes = randomBytes(32)
    const what = `Writing a test object to the bucket ${this.bucket}`
    await this.call(what, () =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: canary, Body: bytes, ContentLength: bytes.byteLength }),
      ),
    )
    try {
      const answer = await this.call(what, () =>
        this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: canary })),
      )
      const back = Buffer.from((await answer.Body?.transformToByteArray()) ?? [])
      if (!back.equals(bytes)) {
        throw new BerthError(
          'STORAGE_UNAVAILABLE',
          `${what}: it read back different bytes (check AWS_ENDPOINT_URL_S3)`,
          {
            details: { reason: 'canary_mismatch', bucket: this.bucket },
          },
        )
      }
    } finally {
      await this.call(what, () =>
        this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: [{ Key: canary }], Quiet: true } }),
        ),
      )
    }
    return { bucketMs, canaryMs: performance.now() - started - bucketMs }
  }
}

function fromCache(clean: string, cached: CachedFile, etag: string, range: ByteRange | undefined): WorkspaceRead {
  const entry: WorkspaceEntry = { path: clean, type: 'file', size: cached.size, mtimeMs: cached.mtimeMs, etag }
  if (!range) return { entry, body: createReadStream(cached.file) }
  if (range.start >= cached.size || range.start > range.end) {
    throw new BerthError('INVALID_REQUEST', `The range ${range.start}-${range.end} lies outside ${clean}`, {
      details: { path: clean, range },
    })
  }
  const sent = { start: range.start, end: Math.min(range.end, cached.size - 1) }
  return { entry, body: createReadStream(cached.file, sent), range: sent }
}

function directory(p: string, lastModified?: Date): WorkspaceEntry {
  return { path: p, type: 'directory', size: 0, mtimeMs: lastModified?.getTime() ?? 0, etag: '' }
}

/** Depth-first order: a folder right before its contents, siblings in code-unit order of their names. */
export function comparePaths(a: string, b: string): number {
  const left = a.split('/')
  const right = b.split('/')
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i] as string
    const y = right[i] as string
    if (x !== y) return x < y ? -1 : 1
  }
  return left.length - right.length
}

/** The error a lost condition gives, made here for the check before a multipart completion. */
function preconditionFailed(): Error {
  return Object.assign(new Error('The object changed since it was last read'), {
    name: 'PreconditionFailed',
    $metadata: { httpStatusCode: 412 },
  })
}

function fenced(clean: string, epoch: number, newer: number): BerthError {
  return new BerthError(
    'WRITE_FENCED',
    `Not writing ${clean}: it was written under lease epoch ${newer}, newer than this writer's ${epoch} (another instance owns the run now)`,
    { details: { path: clean, epoch, newerEpoch: newer } },
  )
}

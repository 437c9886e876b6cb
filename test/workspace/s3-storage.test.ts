import { spawnSync } from 'node:child_process'
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { loadConfig } from '../../src/config/config.js'
import { BerthError, type ErrorCode, isBerthError } from '../../src/core/errors.js'
import { checkWorkspaceStorage, openWorkspaceStorage } from '../../src/workspace/open-storage.js'
import { MemoryFileIndex } from '../../src/workspace/s3/file-index.js'
import { openS3WorkspaceStorage } from '../../src/workspace/s3/open-s3-storage.js'
import { ReadCache } from '../../src/workspace/s3/read-cache.js'
import { S3WorkspaceStorage } from '../../src/workspace/s3/s3-storage.js'
import { materialize } from '../../src/workspace/s3/scratch-folder.js'
import {
  freshBucket,
  type Radosgw,
  radosgwClient,
  radosgwUnavailableReason,
  sharedRadosgw,
  startGateway,
  startRadosgw,
  stopGateway,
} from '../helpers/radosgw.js'

const unavailable = radosgwUnavailableReason()
if (unavailable) console.warn(unavailable)

async function bytesOf(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

async function rejection(
  promise: Promise<unknown>,
  code: ErrorCode,
): Promise<Error & { details?: Record<string, unknown> }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error, `expected ${code}, nothing was thrown`).not.toBeNull()
  expect(isBerthError(error, code), `expected ${code}, got ${String(error)}`).toBe(true)
  return error as Error & { details?: Record<string, unknown> }
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const md5 = (bytes: Uint8Array | string) => createHash('md5').update(bytes).digest('hex')

/** A stream of `total` bytes from `source`, in 1 MiB chunks, as an HTTP upload arrives. */
function streamOf(source: Buffer): Readable {
  let offset = 0
  return new Readable({
    read() {
      if (offset >= source.byteLength) return this.push(null)
      this.push(source.subarray(offset, offset + 1024 * 1024))
      offset += 1024 * 1024
    },
  })
}

describe.skipIf(unavailable !== null)('S3WorkspaceStorage on Ceph radosgw', () => {
  let rgw: Radosgw
  let bucket: string
  let raw: S3Client
  let scratch: string
  const clients: S3Client[] = []

  function storage(options: { quotaBytes?: number | null; index?: MemoryFileIndex; epochOf?: () => number } = {}) {
    const client = radosgwClient(rgw)
    clients.push(client)
    return new S3WorkspaceStorage({
      client,
      location: { bucket, prefix: 'tenant/a' },
      endpoint: rgw.endpoint,
      index: options.index ?? new MemoryFileIndex(),
      quotaBytes: options.quotaBytes ?? null,
      scratchDir: scratch,
      epochOf: options.epochOf,
    })
  }

  async function newWorkspace(s: S3WorkspaceStorage): Promise<string> {
    const key = randomUUID()
    await s.create(key)
    return key
  }

  beforeAll(async () => {
    const started = Date.now()
    rgw = await sharedRadosgw(inject('radosgwRunDir'))
    console.info(`radosgw ready after ${Date.now() - started} ms (${rgw.endpoint})`)
    bucket = await freshBucket(rgw, 's3-storage')
    raw = radosgwClient(rgw)
    scratch = await mkdtemp(path.join(tmpdir(), 'berth-s3-scratch-'))
  }, 120_000)

  afterAll(async () => {
    for (const client of clients) client.destroy()
    raw?.destroy()
    if (scratch) await rm(scratch, { recursive: true, force: true })
  })

  it('keeps files at <prefix>/workspace/<key>/<path>, with the S3 ETag, and the standard folders as markers', async () => {
    const s = storage()
    const key = await newWorkspace(s)
    expect(await s.exists(key)).toBe(true)
    expect(await s.exists(randomUUID())).toBe(false)
    expect((await s.stat(key, 'uploaded_files'))?.type).toBe('directory')
    expect((await s.stat(key, 'agent_memory'))?.type).toBe('directory')

    const written = await s.write(key, 'notes/todo.md', '- [ ] ship\n')
    expect(written).toMatchObject({ path: 'notes/todo.md', type: 'file', size: 11, etag: `"${md5('- [ ] ship\n')}"` })
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `tenant/a/workspace/${key}/` }))
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(
      [
        `tenant/a/workspace/${key}/`,
        `tenant/a/workspace/${key}/agent_memory/`,
        `tenant/a/workspace/${key}/notes/todo.md`,
        `tenant/a/workspace/${key}/uploaded_files/`,
      ].sort(),
    )
    const stat = await s.stat(key, 'notes/todo.md')
    expect(stat).toMatchObject({ type: 'file', size: 11, etag: written.etag })
    const read = await s.read(key, 'notes/todo.md')
    expect(read.entry.etag).toBe(written.etag)
    expect((await bytesOf(read.body)).toString()).toBe('- [ ] ship\n')
    expect(await s.stat(key, 'notes/missing.md')).toBeNull()
    await rejection(s.read(key, 'notes/missing.md'), 'FILE_NOT_FOUND')
    await rejection(s.read(key, 'notes'), 'PATH_INVALID')
    await rejection(s.stat(randomUUID(), 'x.txt'), 'WORKSPACE_NOT_FOUND')
    await rejection(s.write(key, '../escape.txt', 'x'), 'PATH_INVALID')
    await rejection(s.write(key, `${'long-name/'.repeat(110)}x.txt`, 'x'), 'PATH_INVALID')
  })

  it('reads a byte range (both ends inclusive) and reports the whole size', async () => {
    const s = storage()
    const key = await newWorkspace(s)
    await s.write(key, 'data.bin', '0123456789')
    const read = await s.read(key, 'data.bin', { range: { start: 2, end: 5 } })
    expect(read.range).toEqual({ start: 2, end: 5 })
    expect(read.entry.size).toBe(10)
    expect((await bytesOf(read.body)).toString()).toBe('2345')
  })

  it('streams a 20 MiB write up in parts and reads it back byte-exact', async () => {
    const index = new MemoryFileIndex()
    const s = storage({ index })
    const key = await newWorkspace(s)
    const source = randomBytes(20 * 1024 * 1024)
    const entry = await s.write(key, 'big/blob.bin', streamOf(source))
    expect(entry.size).toBe(source.byteLength)
    // A multipart upload's ETag is the MD5 of its parts' MD5s with the part count: 8 MiB parts make 3.
    expect(entry.etag).toMatch(/^"[0-9a-f]{32}-3"$/)
    const back = await bytesOf((await s.read(key, 'big/blob.bin')).body)
    expect(back.byteLength).toBe(source.byteLength)
    expect(sha256(back)).toBe(sha256(source))
    expect(await index.get(key, 'big/blob.bin')).toMatchObject({
      size: source.byteLength,
      sha256: sha256(source),
      etag: entry.etag,
    })
    expect(await s.usage(key)).toBe(source.byteLength)
    // No spool file is left behind.
    expect((await readdir(scratch)).filter((name) => name.startsWith('.berth-spool-'))).toEqual([])
  }, 60_000)

  it('refuses a write under an older epoch than the file was written with, on this instance or another', async () => {
    const index = new MemoryFileIndex()
    const owner = storage({ index })
    const key = await newWorkspace(owner)
    await owner.write(key, 'report.md', 'by epoch 2', { epoch: 2 })
    const fenced = await rejection(owner.write(key, 'report.md', 'by epoch 1', { epoch: 1 }), 'WRITE_FENCED')
    expect(fenced.details).toMatchObject({ epoch: 1, newerEpoch: 2 })
    expect((await bytesOf((await owner.read(key, 'report.md')).body)).toString()).toBe('by epoch 2')

    // A stale owner on another instance, whose index never saw epoch 2's write: the object itself fences it.
    const stale = storage({ index: new MemoryFileIndex(), epochOf: () => 1 })
    await rejection(stale.write(key, 'report.md', 'stale small write'), 'WRITE_FENCED')
    await rejection(stale.write(key, 'report.md', streamOf(randomBytes(9 * 1024 * 1024))), 'WRITE_FENCED')
    expect((await bytesOf((await owner.read(key, 'report.md')).body)).toString()).toBe('by epoch 2')

    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: `tenant/a/workspace/${key}/report.md` }))
    expect(head.Metadata).toMatchObject({ 'berth-epoch': '2', 'berth-sha256': sha256(Buffer.from('by epoch 2')) })
    expect((await index.get(key, 'report.md'))?.epoch).toBe(2)

    // The new owner's next epoch writes; a write outside any run keeps the epoch.
    await owner.write(key, 'report.md', 'by epoch 3', { epoch: 3 })
    await owner.write(key, 'report.md', 'uploaded')
    expect((await index.get(key, 'report.md'))?.epoch).toBe(3)
    // Written meanwhile outside berth (the index holds an old ETag): the write still goes through.
    await raw.send(
      new PutObjectCommand({ Bucket: bucket, Key: `tenant/a/workspace/${key}/report.md`, Body: 'outside' }),
    )
    await owner.write(key, 'report.md', 'after outside', { epoch: 3 })
    expect((await bytesOf((await owner.read(key, 'report.md')).body)).toString()).toBe('after outside')
  }, 60_000)

  it('has folders as a disk has them: implicit, kept when emptied, never written over, listed depth first', async () => {
    const s = storage()
    const key = await newWorkspace(s)
    await s.write(key, 'site/css/a.css', 'a')
    await s.write(key, 'site/index.html', '<h1>')
    await s.write(key, 'site-notes.txt', 'n')
    expect((await s.stat(key, 'site'))?.type).toBe('directory')
    expect((await s.stat(key, 'site/css'))?.type).toBe('directory')
    await rejection(s.write(key, 'site', 'x'), 'PATH_IS_A_FOLDER')
    await rejection(s.write(key, 'site/index.html/x', 'x'), 'PATH_INVALID')

    const all: string[] = []
    for await (const entry of s.list(key)) all.push(`${entry.type[0]} ${entry.path}`)
    // '-' sorts before '/' in a bucket listing; depth first puts site/ and its contents together.
    expect(all).toEqual([
      'd agent_memory',
      'd site',
      'd site/css',
      'f site/css/a.css',
      'f site/index.html',
      'f site-notes.txt',
      'd uploaded_files',
    ])
    const top: string[] = []
    for await (const entry of s.list(key, '', { depth: 1 })) top.push(entry.path)
    expect(top).toEqual(['agent_memory', 'site', 'site-notes.txt', 'uploaded_files'])
    const inside: string[] = []
    for await (const entry of s.list(key, 'site')) inside.push(entry.path)
    expect(inside).toEqual(['site/css', 'site/css/a.css', 'site/index.html'])

    await s.remove(key, 'site/css/a.css')
    expect((await s.stat(key, 'site/css'))?.type).toBe('directory')
    await s.remove(key, 'site')
    expect(await s.stat(key, 'site')).toBeNull()
    expect(await s.stat(key, 'site-notes.txt')).not.toBeNull()
    await s.remove(key, 'never/there')
    await s.remove(key, '')
    expect(await s.exists(key)).toBe(false)
  })

  it('removes a folder of more than 1,000 objects in batches', async () => {
    const s = storage()
    const key = await newWorkspace(s)
    const prefix = `tenant/a/workspace/${key}/many/`
    for (let i = 0; i < 1005; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, 1005 - i) }, (_, j) =>
          raw.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${i + j}.txt`, Body: 'x' })),
        ),
      )
    }
    await s.remove(key, 'many')
    const left = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))
    expect(left.KeyCount ?? 0).toBe(0)
  }, 60_000)

  it('counts usage from the index, checks the quota before anything is uploaded, and counts only growth', async () => {
    const s = storage({ quotaBytes: 1024 * 1024 })
    const key = await newWorkspace(s)
    await s.write(key, 'a.bin', randomBytes(600 * 1024))
    expect(await s.usage(key)).toBe(600 * 1024)
    await s.write(key, 'a.bin', randomBytes(900 * 1024))
    expect(await s.usage(key)).toBe(900 * 1024)
    const error = await rejection(
      s.write(key, 'b.bin', streamOf(randomBytes(2 * 1024 * 1024))),
      'WORKSPACE_QUOTA_EXCEEDED',
    )
    expect(error.message).toContain('BERTH_WORKSPACE_QUOTA')
    expect(await s.stat(key, 'b.bin')).toBeNull()
    await rejection(s.write(key, 'c.bin', randomBytes(200 * 1024)), 'WORKSPACE_QUOTA_EXCEEDED')
    expect(await s.usage(key)).toBe(900 * 1024)
    await s.remove(key, 'a.bin')
    expect(await s.usage(key)).toBe(0)
  })

  it('rebuilds the file index from the bucket for files written outside berth', async () => {
    const index = new MemoryFileIndex()
    const s = storage({ index })
    const key = await newWorkspace(s)
    await s.write(key, 'by-berth.txt', 'berth', { epoch: 4 })
    await index.put(key, { path: 'vanished.txt', size: 99, sha256: '', etag: '"x"', epoch: 0, mtimeMs: 0 })
    await raw.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `tenant/a/workspace/${key}/copied/in.bin`,
        Body: Buffer.alloc(1234),
      }),
    )
    expect(await s.usage(key)).toBe(5 + 99)
    expect(await s.reindex(key)).toBe(2)
    expect(await s.usage(key)).toBe(5 + 1234)
    expect(await index.get(key, 'by-berth.txt')).toMatchObject({ epoch: 4, sha256: sha256(Buffer.from('berth')) })
    expect(await index.get(key, 'copied/in.bin')).toMatchObject({ size: 1234, epoch: 0 })
    expect(await index.get(key, 'vanished.txt')).toBeNull()
  })

  it('takes the first free name with freeName', async () => {
    const s = storage()
    const key = await newWorkspace(s)
    const first = await s.write(key, 'uploaded_files/report.pdf', 'one', { freeName: true })
    const second = await s.write(key, 'uploaded_files/report.pdf', 'two', { freeName: true })
    expect([first.path, second.path]).toEqual(['uploaded_files/report.pdf', 'uploaded_files/report_1.pdf'])
    expect((await bytesOf((await s.read(key, 'uploaded_files/report.pdf')).body)).toString()).toBe('one')
  })

  it('materializes a workspace in a scratch folder and syncs back only what changed', async () => {
    const index = new MemoryFileIndex()
    let epoch = 1
    const s = storage({ index, epochOf: () => epoch })
    const key = await newWorkspace(s)
    await s.write(key, 'keep.txt', 'unchanged')
    await s.write(key, 'touched.txt', 'same bytes')
    await s.write(key, 'edit.txt', 'old')
    await s.write(key, 'gone.txt', 'bye')
    await s.write(key, 'dir/nested/deep.txt', 'deep')
    const big = randomBytes(9 * 1024 * 1024)
    await s.write(key, 'big.bin', big)

    // Leftovers of a process that is gone go before the first copy; a live process's stay.
    const dead = spawnSync('true').pid as number
    await mkdir(path.join(scratch, `${key}-${dead}-AbC123`, 'sub'), { recursive: true })
    await writeFile(path.join(scratch, `.berth-spool-${dead}-0123456789abcdef`), 'half an upload')
    await mkdir(path.join(scratch, `${key}-${process.pid}-XyZ789`))

    const folder = await s.localFolder(key)
    expect(folder.dir.startsWith(scratch)).toBe(true)
    expect(existsSync(path.join(scratch, `${key}-${dead}-AbC123`))).toBe(false)
    expect(existsSync(path.join(scratch, `.berth-spool-${dead}-0123456789abcdef`))).toBe(false)
    expect(existsSync(path.join(scratch, `${key}-${process.pid}-XyZ789`))).toBe(true)
    expect(await readFile(path.join(folder.dir, 'keep.txt'), 'utf8')).toBe('unchanged')
    expect(sha256(await readFile(path.join(folder.dir, 'big.bin')))).toBe(sha256(big))
    expect(existsSync(path.join(folder.dir, 'uploaded_files'))).toBe(true)

    epoch = 2
    await writeFile(path.join(folder.dir, 'edit.txt'), 'new')
    await writeFile(path.join(folder.dir, 'touched.txt'), 'same bytes')
    await utimes(path.join(folder.dir, 'touched.txt'), new Date(), new Date(Date.now() + 5000))
    await rm(path.join(folder.dir, 'gone.txt'))
    await rm(path.join(folder.dir, 'dir'), { recursive: true })
    await writeFile(path.join(folder.dir, 'added.txt'), 'added')
    await mkdir(path.join(folder.dir, 'empty/inner'), { recursive: true })
    await symlink('/etc/passwd', path.join(folder.dir, 'passwd-link'))
    await symlink('keep.txt', path.join(folder.dir, 'inside-link'))
    await folder.sync()

    const text = async (p: string) => (await bytesOf((await s.read(key, p)).body)).toString()
    expect(await text('edit.txt')).toBe('new')
    expect(await text('added.txt')).toBe('added')
    expect(await s.stat(key, 'gone.txt')).toBeNull()
    expect(await s.stat(key, 'dir')).toBeNull()
    expect((await s.stat(key, 'empty/inner'))?.type).toBe('directory')
    expect(await s.stat(key, 'passwd-link')).toBeNull()
    expect(await s.stat(key, 'inside-link')).toBeNull()
    // Only what changed went up under the new epoch; same bytes with a new mtime stayed.
    const epochOf = async (p: string) =>
      (await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: `tenant/a/workspace/${key}/${p}` }))).Metadata?.[
        'berth-epoch'
      ]
    expect(await epochOf('edit.txt')).toBe('2')
    expect(await epochOf('touched.txt')).toBe('1')
    expect(await epochOf('keep.txt')).toBe('1')
    expect(await epochOf('big.bin')).toBe('1')
    expect(await s.usage(key)).toBe(
      'unchanged'.length + 'same bytes'.length + 'new'.length + 'added'.length + big.byteLength,
    )

    await writeFile(path.join(folder.dir, 'last.txt'), 'written before release')
    await folder.release()
    expect(existsSync(folder.dir)).toBe(false)
    expect(await text('last.txt')).toBe('written before release')
  }, 60_000)

  it('refuses to start on a missing bucket, refused credentials or an endpoint that does not answer, naming the setting', async () => {
    const open = (settings: Record<string, string>) =>
      openS3WorkspaceStorage({
        settings: {
          workspaceUrl: `s3://${bucket}/p`,
          awsEndpointUrlS3: rgw.endpoint,
          awsAccessKeyId: rgw.accessKeyId,
          awsSecretAccessKey: rgw.secretAccessKey,
          ...settings,
        },
        index: new MemoryFileIndex(),
        quotaBytes: null,
        scratchDir: scratch,
      })
    const ok = await open({})
    expect(ok.kind).toBe('s3')
    const missing = await rejection(open({ workspaceUrl: 's3://no-such-bucket-here/p' }), 'STORAGE_UNAVAILABLE')
    expect(missing.details?.reason).toBe('bucket_missing')
    expect(missing.message).toContain('BERTH_WORKSPACE_URL')
    const denied = await rejection(open({ awsSecretAccessKey: 'wrong-secret' }), 'STORAGE_UNAVAILABLE')
    expect(denied.details?.reason).toBe('access_denied')
    expect(denied.message).toContain('AWS_SECRET_ACCESS_KEY')
    const down = await rejection(open({ awsEndpointUrlS3: 'http://127.0.0.1:9' }), 'STORAGE_UNAVAILABLE')
    expect(down.details?.reason).toBe('unreachable')
    expect(down.message).toContain('AWS_ENDPOINT_URL_S3')
    await rejection(open({ workspaceUrl: 'https://bucket/p' }), 'CONFIG_INVALID')

    // While running: the endpoint goes away under an open storage.
    const lost = await openS3WorkspaceStorage({
      settings: { workspaceUrl: `s3://${bucket}/p`, awsEndpointUrlS3: 'http://127.0.0.1:9' },
      index: new MemoryFileIndex(),
      quotaBytes: null,
      scratchDir: scratch,
      check: false,
    })
    await rejection(lost.stat(randomUUID(), 'a.txt'), 'STORAGE_UNAVAILABLE')
  }, 60_000)

  it('is chosen by BERTH_WORKSPACE_URL with the AWS_* settings, and checked before serving', async () => {
    const env = {
      BERTH_WORKSPACE_URL: `s3://${bucket}/chosen`,
      AWS_ENDPOINT_URL_S3: rgw.endpoint,
      AWS_ACCESS_KEY_ID: rgw.accessKeyId,
      AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
    }
    const localRoot = path.join(scratch, 'root', 'workspace')
    const chosen = openWorkspaceStorage(loadConfig({ env, envFile: false }), {
      localRoot,
      fileIndex: new MemoryFileIndex(),
    })
    expect(chosen.kind).toBe('s3')
    await checkWorkspaceStorage(chosen)
    const key = randomUUID()
    await chosen.create(key)
    await chosen.write(key, 'a.txt', 'x')
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `chosen/workspace/${key}/a.txt` }))
    expect(listed.KeyCount).toBe(1)
    expect(() => openWorkspaceStorage(loadConfig({ env, envFile: false }), { localRoot })).toThrow(/file index/)

    const missing = openWorkspaceStorage(
      loadConfig({ env: { ...env, BERTH_WORKSPACE_URL: 's3://no-such-bucket-here' }, envFile: false }),
      { localRoot, fileIndex: new MemoryFileIndex() },
    )
    const error = await rejection(checkWorkspaceStorage(missing), 'STORAGE_UNAVAILABLE')
    expect(error.message).toContain('BERTH_WORKSPACE_URL')
    expect(() => loadConfig({ env: { BERTH_WORKSPACE_URL: 'https://bucket/p' }, envFile: false })).toThrow(
      /BERTH_WORKSPACE_URL/,
    )
    expect(openWorkspaceStorage(loadConfig({ env: {}, envFile: false }), { localRoot }).kind).toBe('local')
  })

  it('serves small files again from a bounded local cache while the index holds their ETag', async () => {
    const client = radosgwClient(rgw)
    clients.push(client)
    let gets = 0
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetObjectCommand') gets++
        return next(args)
      },
      { step: 'initialize' },
    )
    const cache = new ReadCache(path.join(scratch, 'cache'), 64 * 1024, 40 * 1024)
    const index = new MemoryFileIndex()
    const s = new S3WorkspaceStorage({
      client,
      location: { bucket, prefix: 'cached' },
      index,
      quotaBytes: null,
      scratchDir: scratch,
      readCache: cache,
    })
    const key = await newWorkspace(s)
    const page = randomBytes(30 * 1024)
    const written = await s.write(key, 'site/app.js', page)
    const text = async (p: string, range?: { start: number; end: number }) =>
      bytesOf((await s.read(key, p, range ? { range } : {})).body)

    expect((await text('site/app.js')).equals(page)).toBe(true)
    expect(gets).toBe(1)
    const again = await s.read(key, 'site/app.js')
    expect(again.entry).toMatchObject({ size: page.byteLength, etag: written.etag })
    expect((await bytesOf(again.body)).equals(page)).toBe(true)
    expect((await text('site/app.js', { start: 100, end: 199 })).equals(page.subarray(100, 200))).toBe(true)
    expect(gets).toBe(1)

    // A write on another instance (sharing the database's index) makes the copy stale; so does one here.
    const other = new S3WorkspaceStorage({
      client: raw,
      location: { bucket, prefix: 'cached' },
      index,
      quotaBytes: null,
      scratchDir: scratch,
    })
    const next = randomBytes(30 * 1024)
    await other.write(key, 'site/app.js', next)
    expect((await text('site/app.js')).equals(next)).toBe(true)
    expect(gets).toBe(2)
    const third = randomBytes(30 * 1024)
    await s.write(key, 'site/app.js', third)
    expect((await text('site/app.js')).equals(third)).toBe(true)
    expect(gets).toBe(3)

    // Bounded: a second 30 KiB file fits beside it, a third pushes the least recently used out.
    await s.write(key, 'b.bin', randomBytes(30 * 1024))
    await s.write(key, 'c.bin', randomBytes(30 * 1024))
    await text('b.bin')
    await text('c.bin')
    expect(cache.size).toBeLessThanOrEqual(64 * 1024)
    gets = 0
    await text('c.bin')
    expect(gets).toBe(0)
    await text('site/app.js')
    expect(gets).toBe(1)
    // Too large for the cache: always from the bucket.
    await s.write(key, 'large.bin', randomBytes(50 * 1024))
    gets = 0
    await text('large.bin')
    await text('large.bin')
    expect(gets).toBe(2)
  })

  it('keeps the scratch copy when the bucket cannot be reached at release, and a later release sends it', async () => {
    const s = storage()
    const key = await newWorkspace(s)
    await s.write(key, 'a.txt', 'a')
    let down = false
    const source = {
      list: s.list.bind(s),
      read: s.read.bind(s),
      remove: s.remove.bind(s),
      makeFolder: s.makeFolder.bind(s),
      write: (...args: Parameters<S3WorkspaceStorage['write']>) =>
        down ? Promise.reject(new BerthError('STORAGE_UNAVAILABLE', 'the endpoint is down')) : s.write(...args),
    }
    const folder = await materialize(source, key, scratch)
    await writeFile(path.join(folder.dir, 'work.txt'), 'an hour of work')
    down = true
    await rejection(folder.release(), 'STORAGE_UNAVAILABLE')
    expect(await readFile(path.join(folder.dir, 'work.txt'), 'utf8')).toBe('an hour of work')
    down = false
    await folder.release()
    expect(existsSync(folder.dir)).toBe(false)
    expect((await bytesOf((await s.read(key, 'work.txt')).body)).toString()).toBe('an hour of work')
  })
})

describe.skipIf(unavailable !== null)('S3WorkspaceStorage when the endpoint goes away and comes back', () => {
  let rgw: Radosgw | undefined
  afterAll(async () => {
    await rgw?.stop()
  })

  it('fails cleanly with STORAGE_UNAVAILABLE, changes nothing, and works again once the gateway is back', async () => {
    // A cluster of its own: the shared one serves other test files meanwhile.
    const own = await startRadosgw()
    rgw = own
    const scratch = await mkdtemp(path.join(tmpdir(), 'berth-s3-outage-'))
    const index = new MemoryFileIndex()
    const settings = {
      workspaceUrl: `s3://${await freshBucket(own, 'outage')}/p`,
      awsEndpointUrlS3: own.endpoint,
      awsAccessKeyId: own.accessKeyId,
      awsSecretAccessKey: own.secretAccessKey,
    }
    const s = await openS3WorkspaceStorage({ settings, index, quotaBytes: null, scratchDir: scratch })
    try {
      const key = randomUUID()
      await s.create(key)
      const before = await s.write(key, 'a.txt', 'before the outage')

      await stopGateway(own)
      for (const attempt of [
        () => s.read(key, 'a.txt'),
        () => s.stat(key, 'a.txt'),
        () => s.write(key, 'a.txt', 'during the outage'),
        () => s.write(key, 'b.txt', 'during the outage'),
        () => s.remove(key, 'a.txt'),
      ]) {
        const error = await rejection(attempt(), 'STORAGE_UNAVAILABLE')
        expect(error.details?.reason).toBe('unreachable')
        expect(error.message).toContain('AWS_ENDPOINT_URL_S3')
      }
      await rejection(s.check(), 'STORAGE_UNAVAILABLE')
      expect(await index.get(key, 'a.txt')).toMatchObject({ etag: before.etag })
      expect(await index.get(key, 'b.txt')).toBeNull()

      await startGateway(own)
      expect((await bytesOf((await s.read(key, 'a.txt')).body)).toString()).toBe('before the outage')
      expect(await s.stat(key, 'b.txt')).toBeNull()
      await s.write(key, 'a.txt', 'after the outage')
      expect((await bytesOf((await s.read(key, 'a.txt')).body)).toString()).toBe('after the outage')
      await s.check()
    } finally {
      s.close()
      await rm(scratch, { recursive: true, force: true })
    }
  }, 120_000)
})

import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { LocalWorkspaceStorage } from '../../src/workspace/local-storage.js'
import { openWorkspaceStorage } from '../../src/workspace/open-storage.js'
import { MemoryFileIndex } from '../../src/workspace/s3/file-index.js'
import { openS3WorkspaceStorage } from '../../src/workspace/s3/open-s3-storage.js'
import type { S3WorkspaceStorage } from '../../src/workspace/s3/s3-storage.js'
import { postgresUnavailableReason, sharedPostgres } from '../helpers/postgres.js'
import { freshBucket, type Radosgw, radosgwUnavailableReason, sharedRadosgw } from '../helpers/radosgw.js'
import { tempDir } from '../helpers/temp-dir.js'
import { parseMetrics, sampleValue, startHealthApp } from './metrics-readyz-harness.js'

const skip = postgresUnavailableReason() ?? radosgwUnavailableReason()
if (skip) console.warn(`/metrics on PostgreSQL and S3 skipped: ${skip}`)

const SESSION = '0f6a8a52-3c1e-4d55-9a1b-6c2f4e8d9b10'
const closers: (() => Promise<unknown> | unknown)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

function s3Settings(rgw: Radosgw, bucket: string) {
  return {
    workspaceQuota: null,
    workspaceUrl: `s3://${bucket}/berth`,
    awsAccessKeyId: rgw.accessKeyId,
    awsSecretAccessKey: rgw.secretAccessKey,
    awsRegion: rgw.region,
    awsEndpointUrlS3: rgw.endpoint,
  }
}

/** A port of this machine where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function scrape(url: string) {
  const response = await fetch(`${url}/metrics`)
  expect(response.status).toBe(200)
  return parseMetrics(await response.text())
}

async function bodyText(storage: S3WorkspaceStorage, path: string): Promise<string> {
  const { body } = await storage.read(SESSION, path)
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array))
  return Buffer.concat(chunks).toString()
}

describe.skipIf(Boolean(skip))('/metrics on PostgreSQL and S3', { timeout: 120_000 }, () => {
  async function setup() {
    const root = await tempDir('berth-metrics-')
    const store = await PostgresStore.open({
      url: await (await sharedPostgres(inject('postgresRunDir'))).createDatabase(),
    })
    closers.push(() => store.close())
    const rgw = await sharedRadosgw(inject('radosgwRunDir'))
    const storage = openWorkspaceStorage(s3Settings(rgw, await freshBucket(rgw, 'metrics')), {
      localRoot: join(root, 'workspace'),
      fileIndex: new MemoryFileIndex(),
    }) as S3WorkspaceStorage
    closers.push(() => storage.close())
    const { app, url } = await startHealthApp({ root, store, workspaceStorage: storage })
    closers.push(() => app.close())
    return { store, storage, url, rgw }
  }

  it('the database: up, one ping’s latency, the pool’s open, idle and waiting connections and its size', async () => {
    const { url } = await setup()
    const samples = await scrape(url)
    expect(sampleValue(samples, 'berth_database_up')).toBe(1)
    const ping = sampleValue(samples, 'berth_database_ping_seconds') as number
    expect(ping).toBeGreaterThan(0)
    expect(ping).toBeLessThan(5)
    const total = sampleValue(samples, 'berth_database_pool_connections', { state: 'total' }) as number
    const idle = sampleValue(samples, 'berth_database_pool_connections', { state: 'idle' }) as number
    expect(total).toBeGreaterThanOrEqual(1)
    expect(idle).toBeGreaterThanOrEqual(0)
    expect(idle).toBeLessThanOrEqual(total)
    expect(sampleValue(samples, 'berth_database_pool_connections', { state: 'waiting' })).toBe(0)
    expect(sampleValue(samples, 'berth_database_pool_max')).toBe(10)
  })

  it('a scrape with the database gone still answers: up 0, NaN for the ping and the counts', async () => {
    const { url, store } = await setup()
    expect(sampleValue(await scrape(url), 'berth_database_up')).toBe(1)
    await store.close()
    const samples = await scrape(url)
    expect(sampleValue(samples, 'berth_database_up')).toBe(0)
    expect(sampleValue(samples, 'berth_database_ping_seconds')).toBeNaN()
    expect(sampleValue(samples, 'berth_sessions')).toBeNaN()
  })

  it('S3: requests and their time by operation, failures by status, the read cache’s hits and misses', async () => {
    const { storage, url, rgw } = await setup()
    await storage.create(SESSION)
    await storage.write(SESSION, 'site/index.html', '<p>hi</p>')
    expect(await bodyText(storage, 'site/index.html')).toBe('<p>hi</p>') // a miss: fetched, then kept
    expect(await bodyText(storage, 'site/index.html')).toBe('<p>hi</p>') // a hit: no request
    expect(await bodyText(storage, 'site/index.html')).toBe('<p>hi</p>') // a hit
    // A client of this process on a bucket that does not exist: HeadBucket answers 404.
    const missing = await openS3WorkspaceStorage({
      settings: s3Settings(rgw, 'berth-no-such-bucket'),
      index: new MemoryFileIndex(),
      quotaBytes: null,
      scratchDir: await tempDir(),
      check: false,
    })
    closers.push(() => missing.close())
    await expect(missing.check()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' })
    // And one on an endpoint where nothing listens: no answer, no status.
    const port = await closedPort()
    const unreachable = await openS3WorkspaceStorage({
      settings: { ...s3Settings(rgw, 'berth-metrics'), awsEndpointUrlS3: `http://127.0.0.1:${port}` },
      index: new MemoryFileIndex(),
      quotaBytes: null,
      scratchDir: await tempDir(),
      check: false,
    })
    closers.push(() => unreachable.close())
    await expect(unreachable.check()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' })

    const samples = await scrape(url)
    expect(sampleValue(samples, 'berth_s3_requests_total', { operation: 'PutObject' })).toBeGreaterThanOrEqual(1)
    expect(sampleValue(samples, 'berth_s3_requests_total', { operation: 'GetObject' })).toBe(1)
    expect(sampleValue(samples, 'berth_s3_request_duration_seconds_count', { operation: 'GetObject' })).toBe(1)
    const seconds = sampleValue(samples, 'berth_s3_request_duration_seconds_sum', { operation: 'GetObject' }) as number
    expect(seconds).toBeGreaterThan(0)
    expect(seconds).toBeLessThan(10)
    expect(sampleValue(samples, 'berth_s3_requests_total', { operation: 'HeadBucket' })).toBe(2)
    expect(sampleValue(samples, 'berth_s3_request_errors_total', { operation: 'HeadBucket', status: '404' })).toBe(1)
    expect(sampleValue(samples, 'berth_s3_request_errors_total', { operation: 'HeadBucket', status: 'none' })).toBe(1)
    expect(sampleValue(samples, 'berth_s3_request_errors_total', { operation: 'GetObject' })).toBeUndefined()
    expect(sampleValue(samples, 'berth_s3_read_cache_lookups_total', { result: 'hit' })).toBe(2)
    expect(sampleValue(samples, 'berth_s3_read_cache_lookups_total', { result: 'miss' })).toBe(1)
    expect(sampleValue(samples, 'berth_s3_read_cache_hit_ratio')).toBeCloseTo(2 / 3, 5)
  })
})

describe('/metrics on SQLite and local workspaces', () => {
  it('has the database gauges but no pool and no S3 series', async () => {
    const root = await tempDir('berth-metrics-')
    const store: Store = await SqliteStore.open({ file: join(root, 'berth.db') })
    closers.push(() => store.close())
    const { app, url } = await startHealthApp({
      root,
      store,
      workspaceStorage: new LocalWorkspaceStorage({ root: join(root, 'workspace'), quotaBytes: null }),
    })
    closers.push(() => app.close())
    const samples = await scrape(url)
    expect(sampleValue(samples, 'berth_database_up')).toBe(1)
    expect(sampleValue(samples, 'berth_database_ping_seconds')).toBeGreaterThan(0)
    expect(samples.some((s) => s.name.startsWith('berth_database_pool'))).toBe(false)
    expect(samples.some((s) => s.name.startsWith('berth_s3_'))).toBe(false)
  })
})

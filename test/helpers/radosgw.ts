import { execFile, spawnSync } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { MemoryFileIndex, type WorkspaceFileIndex } from '../../src/workspace/s3/file-index.js'
import { S3WorkspaceStorage } from '../../src/workspace/s3/s3-storage.js'
import { oncePerRun } from './once-per-run.js'

/**
 * A real S3 server for tests: Debian's Ceph radosgw over one monitor and one
 * in-memory (memstore) OSD, in a temporary folder, on free ports of
 * 127.0.0.1, with an S3 user whose keys are made up per cluster. Stopped and
 * removed on teardown.
 *
 * In a vitest run the cluster is shared: `vitest.config.ts` names
 * `test/helpers/radosgw-global.ts` as a global setup, which hands every test
 * file one run folder. The first file that asks for radosgw starts the
 * cluster there (the others wait for it), and the global teardown stops it,
 * so a run without S3 tests starts nothing. Each test file takes a bucket of
 * its own (`freshBucket`).
 *
 * Paxos' proposal interval is cut from 1 s to 50 ms: radosgw creates its
 * pools one monitor command at a time at start and on the first bucket, and
 * each waited a whole interval (about 13 s to start; about 3 s with this).
 *
 * @example
 *   const rgw = await sharedRadosgw(inject('radosgwRunDir'))
 *   const bucket = await freshBucket(rgw)
 */

const run = promisify(execFile)

export interface Radosgw {
  /** The folder holding ceph.conf, the daemons' data, pid files and logs. */
  dir: string
  /** `http://127.0.0.1:<port>` */
  endpoint: string
  accessKeyId: string
  secretAccessKey: string
  /** Any region signs; radosgw's default zone group accepts it. */
  region: string
  stop(): Promise<void>
}

const BINARIES = ['ceph', 'ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph-authtool']

/** Why radosgw tests cannot run here, or null when they can. Only missing binaries skip them. */
export function radosgwUnavailableReason(): string | null {
  const missing = BINARIES.filter((name) => !onPath(name))
  return missing.length === 0
    ? null
    : `Ceph is not installed (missing ${missing.join(', ')}; apt-get install -y radosgw ceph-mon ceph-osd): S3 tests skipped`
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, name)))
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon max pg per osd = 1000
paxos propose interval = 0.05
paxos min wait = 0.01
osd objectstore = memstore
memstore device bytes = 1073741824
osd crush chooseleaf type = 0
run dir = ${dir}/run
log file = ${dir}/log/$name.log
admin socket = ${dir}/run/$name.asok
pid file = ${dir}/run/$name.pid
keyring = ${dir}/keyring
[mon.a]
mon data = ${dir}/mon/a
[osd.0]
osd data = ${dir}/osd/0
[client.rgw.a]
# without it radosgw loops on "get_initial_auth_request returned -13"
ms mon client mode = crc secure
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
`
}

async function until(what: string, test: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`radosgw test cluster: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** Start a cluster in `dir` (created if needed) and create an S3 user. About 3 s here. */
export async function startRadosgw(dir?: string): Promise<Radosgw> {
  const reason = radosgwUnavailableReason()
  if (reason !== null) throw new Error(reason)
  const base = dir ?? mkdtempSync(join(tmpdir(), 'berth-rgw-'))
  for (const sub of ['mon', 'osd/0', 'run', 'log', 'rgw']) mkdirSync(join(base, sub), { recursive: true })
  const [monPort, rgwPort] = [await freePort(), await freePort()]
  const fsid = randomUUID()
  const conf = join(base, 'ceph.conf')
  writeFileSync(conf, cephConf(base, fsid, monPort, rgwPort))
  const c = ['-c', conf]
  try {
    await run('ceph-authtool', [
      '--create-keyring',
      join(base, 'keyring'),
      '--gen-key',
      '-n',
      'mon.',
      '--cap',
      'mon',
      'allow *',
    ])
    await run('monmaptool', ['--create', '--add', 'a', `v2:127.0.0.1:${monPort}`, '--fsid', fsid, join(base, 'monmap')])
    await run('ceph-mon', [
      ...c,
      '--mkfs',
      '-i',
      'a',
      '--monmap',
      join(base, 'monmap'),
      '--keyring',
      join(base, 'keyring'),
    ])
    await run('ceph-mon', [...c, '-i', 'a'])
    const osdUuid = randomUUID()
    await run('ceph', [...c, 'osd', 'new', osdUuid], { timeout: 60_000 })
    await run('ceph-osd', [...c, '-i', '0', '--mkfs', '--osd-uuid', osdUuid])
    await run('ceph-osd', [...c, '-i', '0'])
    await until('the OSD', async () => (await run('ceph', [...c, 'osd', 'stat'])).stdout.includes('1 up'))
    await run('radosgw', [...c, '-n', 'client.rgw.a'])
    const endpoint = `http://127.0.0.1:${rgwPort}`
    await until('radosgw', () =>
      fetch(endpoint).then(
        () => true,
        () => false,
      ),
    )
    const accessKeyId = `BERTH${randomBytes(8).toString('hex').toUpperCase()}`
    const secretAccessKey = randomBytes(24).toString('base64url')
    await run('radosgw-admin', [
      ...c,
      'user',
      'create',
      '--uid=berth-test',
      '--display-name=berth test',
      `--access-key=${accessKeyId}`,
      `--secret-key=${secretAccessKey}`,
    ])
    writeFileSync(join(base, 'user.json'), JSON.stringify({ endpoint, accessKeyId, secretAccessKey }))
    return handle(base, { endpoint, accessKeyId, secretAccessKey })
  } catch (error) {
    await stopRadosgw(base)
    throw error
  }
}

function handle(dir: string, user: { endpoint: string; accessKeyId: string; secretAccessKey: string }): Radosgw {
  return { dir, ...user, region: 'us-east-1', stop: () => stopRadosgw(dir) }
}

function daemonPids(dir: string): number[] {
  const runDir = join(dir, 'run')
  if (!existsSync(runDir)) return []
  return readdirSync(runDir)
    .filter((name) => name.endsWith('.pid'))
    .map((name) => Number(readFileSync(join(runDir, name), 'utf8').trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0)
}

/** Running, not a zombie (a daemon whose parent is this process stays one until this process ends). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/**
 * Stop the daemons of the cluster in `dir` and remove the folder. KILL at
 * once: everything is thrown away (the OSD keeps its data in memory), and a
 * TERMed OSD takes seconds to exit.
 */
export async function stopRadosgw(dir: string): Promise<void> {
  const pids = daemonPids(dir)
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
  const deadline = Date.now() + 5_000
  while (pids.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  rmSync(dir, { recursive: true, force: true })
}

/** Kill only the gateway (radosgw), as when the S3 endpoint goes away; the cluster behind it stays. */
export async function stopGateway(rgw: Radosgw): Promise<void> {
  const pidFile = join(rgw.dir, 'run', 'client.rgw.a.pid')
  const pid = Number(readFileSync(pidFile, 'utf8').trim())
  process.kill(pid, 'SIGKILL')
  rmSync(pidFile, { force: true })
  await until('radosgw to stop', async () => !alive(pid))
  await until('the endpoint to close', () =>
    fetch(rgw.endpoint).then(
      () => false,
      () => true,
    ),
  )
}

/** Start the gateway again on the same port, after `stopGateway`. */
export async function startGateway(rgw: Radosgw): Promise<void> {
  await run('radosgw', ['-c', join(rgw.dir, 'ceph.conf'), '-n', 'client.rgw.a'])
  await until('radosgw', () =>
    fetch(rgw.endpoint).then(
      () => true,
      () => false,
    ),
  )
}

/** An S3 client for the cluster with the settings radosgw needs (path-style; no aws-chunked uploads). */
export function radosgwClient(rgw: Radosgw, credentials?: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({
    endpoint: rgw.endpoint,
    region: rgw.region,
    forcePathStyle: true,
    credentials: credentials ?? { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}

/**
 * berth's S3 workspace storage on a fresh bucket of `rgw` (prefix `berth`), with the file index given (an
 * in-memory one by default) and a scratch folder of its own.
 */
export async function s3StorageForTest(
  rgw: Radosgw,
  client: S3Client,
  options: { label: string; index?: WorkspaceFileIndex; quotaBytes?: number | null },
): Promise<{ storage: S3WorkspaceStorage; bucket: string }> {
  const bucket = await freshBucket(rgw, options.label)
  const storage = new S3WorkspaceStorage({
    client,
    location: { bucket, prefix: 'berth' },
    endpoint: rgw.endpoint,
    index: options.index ?? new MemoryFileIndex(),
    quotaBytes: options.quotaBytes ?? null,
    scratchDir: mkdtempSync(join(tmpdir(), 'berth-s3-scratch-')),
  })
  return { storage, bucket }
}

/** A new, empty bucket with a unique name (`berth-<label>-<random>`). */
export async function freshBucket(rgw: Radosgw, label = 'test'): Promise<string> {
  const name = `berth-${label.toLowerCase().replace(/[^a-z0-9-]/g, '-')}-${randomBytes(4).toString('hex')}`.slice(0, 63)
  const client = radosgwClient(rgw)
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }))
  } finally {
    client.destroy()
  }
  return name
}

/**
 * The run's shared cluster, started by the first caller in the run folder
 * the global setup provides (a `mkdir` decides who starts it; the others
 * poll for its address and keys). Outside vitest's global setup, a cluster
 * of its own, stopped when the process exits.
 */
export async function sharedRadosgw(runDir: string | undefined): Promise<Radosgw> {
  if (runDir === undefined) return ownCluster()
  const clusterDir = join(runDir, 'cluster')
  return oncePerRun({
    runDir,
    what: 'radosgw cluster',
    timeoutMs: 120_000,
    start: async () => {
      const started = Date.now()
      const rgw = await startRadosgw(clusterDir)
      return { handle: rgw, info: { ...rgw, stop: undefined, startMs: Date.now() - started } }
    },
    attach: (user: Parameters<typeof handle>[1]) => handle(clusterDir, user),
  })
}

let own: Promise<Radosgw> | undefined

function ownCluster(): Promise<Radosgw> {
  own ??= startRadosgw().then((rgw) => {
    process.once('exit', () => {
      // Synchronous on exit: kill the daemons, then the folder goes.
      for (const pid of daemonPids(rgw.dir)) spawnSync('kill', ['-KILL', String(pid)], { stdio: 'ignore' })
      rmSync(rgw.dir, { recursive: true, force: true })
    })
    return rgw
  })
  return own
}

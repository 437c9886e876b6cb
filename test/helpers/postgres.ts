import { execFile, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import type { StoreUnderTest } from '../store/store-contract.js'
import { oncePerRun } from './once-per-run.js'

/**
 * A throwaway PostgreSQL cluster for tests and benchmarks: initdb into a
 * temporary folder, a free port on 127.0.0.1, its unix socket in the same
 * folder, stopped and removed on teardown. Debian's server binaries are
 * used as they are; nothing is downloaded.
 *
 * In a vitest run the cluster is shared: `vitest.config.ts` names
 * `test/helpers/postgres-global.ts` as a global setup, which hands every
 * test file one run folder. The first file that asks for PostgreSQL starts
 * the cluster there (the others wait for it), and the global teardown stops
 * it, so a run without PostgreSQL tests starts nothing.
 *
 * @example
 *   const postgres = await sharedPostgres()
 *   const url = await postgres.createDatabase() // postgres://postgres:…@127.0.0.1:PORT/berth_…
 */

const run = promisify(execFile)

export interface PostgresCluster {
  /** The folder holding the data directory, the socket, the TLS files and the log. */
  dir: string
  port: number
  /** `postgres://postgres:<password>@127.0.0.1:<port>/<database>` (password authentication over TCP). */
  url(database?: string): string
  /** The CA that signed the server's certificate (for `localhost`, not 127.0.0.1); the server also takes plain connections. */
  caFile: string
  /** A new, empty database; returns its URL. */
  createDatabase(): Promise<string>
  /** Stop the server but keep its data, as an outage would (connections are closed). */
  pause(): Promise<void>
  /** Start it again after `pause`, on the same port. */
  resume(): Promise<void>
  stop(): Promise<void>
}

export interface ClusterOptions {
  /** fsync and synchronous commit as a production server has them (benchmarks); off by default (tests). */
  durable?: boolean
}

/** The superuser's password in throwaway test clusters (not a secret: the cluster listens on 127.0.0.1 only). */
export const TEST_PASSWORD = 'throwaway-pw-51c7'

/** The folder of Debian's server binaries (initdb, pg_ctl), preferring 15; null when none is installed. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => (a === '15' ? -1 : b === '15' ? 1 : Number(b) - Number(a)))
  return versions[0] ? join(root, versions[0], 'bin') : null
}

/** Why PostgreSQL tests cannot run here, or null when they can. */
export function postgresUnavailableReason(): string | null {
  return postgresBinDir() === null
    ? 'PostgreSQL server binaries are not installed (apt-get install -y postgresql); PostgreSQL tests skipped'
    : null
}

/** initdb refuses to run as root: then the cluster belongs to the `postgres` user. */
function asClusterOwner(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]
}

function chownToClusterOwner(...paths: string[]): void {
  if (process.getuid?.() !== 0) return
  const owner = postgresIds()
  for (const path of paths) chownSync(path, owner.uid, owner.gid)
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

/** A CA and a server certificate it signed for `localhost` only, so 127.0.0.1 is a name it does not carry (EC keys: fast). */
async function makeTlsFiles(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  const at = (name: string) => join(dir, name)
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-days',
    '2',
    '-subj',
    '/CN=berth test CA',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.crt'),
  ])
  await run('openssl', ['req', ...ec, '-subj', '/CN=localhost', '-keyout', at('server.key'), '-out', at('server.csr')])
  writeFileSync(at('san.ext'), 'subjectAltName=DNS:localhost\n')
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.crt'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    at('san.ext'),
    '-out',
    at('server.crt'),
  ])
  chmodSync(at('server.key'), 0o600)
  chownToClusterOwner(dir, at('server.key'), at('server.crt'))
}

/** Start a cluster in `dir` (created if needed). About two seconds with `--no-sync` and fsync off. */
export async function startPostgresCluster(dir?: string, options: ClusterOptions = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir()
  if (bin === null) throw new Error(postgresUnavailableReason() ?? 'no PostgreSQL')
  const base = dir ?? mkdtempSync(join(tmpdir(), 'berth-pg-'))
  const data = join(base, 'data')
  const socket = join(base, 'socket')
  const tls = join(base, 'tls')
  mkdirSync(socket, { recursive: true })
  const passwordFile = join(base, 'password')
  writeFileSync(passwordFile, `${TEST_PASSWORD}\n`)
  chownToClusterOwner(base, socket, passwordFile)
  await Promise.all([
    makeTlsFiles(tls),
    run(
      ...asClusterOwner(join(bin, 'initdb'), [
        '-D',
        data,
        '-U',
        'postgres',
        `--pwfile=${passwordFile}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '-E',
        'UTF8',
        // ICU's en-US, as managed servers sort text by a language's rules: berth must not depend on bytewise order.
        '--locale-provider=icu',
        '--icu-locale=en-US',
        '--locale=C.UTF-8',
        ...(options.durable ? [] : ['--no-sync']),
      ]),
    ),
  ])
  const port = await freePort()
  const settings = [
    `-p ${port}`,
    `-k ${socket}`,
    "-c listen_addresses='127.0.0.1,::1'",
    '-c max_connections=300',
    '-c ssl=on',
    `-c ssl_cert_file=${join(tls, 'server.crt')}`,
    `-c ssl_key_file=${join(tls, 'server.key')}`,
    ...(options.durable ? [] : ['-c fsync=off', '-c full_page_writes=off']),
  ]
  writeFileSync(join(base, 'server-options'), settings.join(' '))
  const cluster = clusterHandle(base, port)
  await cluster.resume()
  return cluster
}

function postgresIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'))
  if (!line) throw new Error('running as root, but there is no postgres user to own the test cluster')
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

function clusterHandle(dir: string, port: number): PostgresCluster {
  const url = (database = 'postgres') =>
    `postgres://postgres:${encodeURIComponent(TEST_PASSWORD)}@127.0.0.1:${port}/${database}`
  const pgCtl = (args: string[]) => run(...asClusterOwner(join(postgresBinDir() ?? '', 'pg_ctl'), args))
  const data = join(dir, 'data')
  return {
    dir,
    port,
    url,
    caFile: join(dir, 'tls', 'ca.crt'),
    async createDatabase() {
      const name = `berth_${randomBytes(6).toString('hex')}`
      const client = new pg.Client({ connectionString: url() })
      await client.connect()
      try {
        await client.query(`CREATE DATABASE ${name}`)
      } finally {
        await client.end()
      }
      return url(name)
    },
    async pause() {
      await pgCtl(['stop', '-D', data, '-m', 'fast', '-w'])
    },
    async resume() {
      const options = readFileSync(join(dir, 'server-options'), 'utf8')
      await pgCtl(['start', '-D', data, '-w', '-t', '60', '-l', join(dir, 'postgres.log'), '-o', options])
    },
    stop: () => stopPostgresCluster(dir),
  }
}

/** Stop the cluster in `dir` (immediately: it is thrown away) and remove the folder. */
export async function stopPostgresCluster(dir: string): Promise<void> {
  const bin = postgresBinDir()
  const data = join(dir, 'data')
  if (bin && existsSync(join(data, 'postmaster.pid'))) {
    await run(...asClusterOwner(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w'])).catch(
      () => undefined,
    )
  }
  rmSync(dir, { recursive: true, force: true })
}

/**
 * Empty every table of a test database except the migration bookkeeping and the append fence (schema state:
 * src/store/postgres/append-fence.ts): a clean store in milliseconds, where CREATE DATABASE takes a few hundred.
 */
export async function emptyDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const tables = await client.query<{ name: string }>(
      "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'kysely_%' AND tablename <> 'append_fence'",
    )
    if (tables.rows.length > 0) await client.query(`TRUNCATE ${tables.rows.map((row) => row.name).join(', ')} CASCADE`)
  } finally {
    await client.end()
  }
}

/**
 * The run's shared cluster, started by the first caller in the run folder
 * the global setup provides (a `mkdir` decides who starts it; the others
 * poll for its port). Outside vitest's global setup, a cluster of its own,
 * stopped when the process exits.
 */
export async function sharedPostgres(runDir: string | undefined): Promise<PostgresCluster> {
  if (runDir === undefined) return ownCluster()
  const dir = join(runDir, 'cluster')
  return oncePerRun({
    runDir,
    what: 'PostgreSQL cluster',
    timeoutMs: 90_000,
    start: async () => {
      const cluster = await startPostgresCluster(dir)
      return { handle: cluster, info: { port: cluster.port } }
    },
    attach: (info: { port: number }) => clusterHandle(dir, info.port),
  })
}

let own: Promise<PostgresCluster> | undefined

function ownCluster(): Promise<PostgresCluster> {
  own ??= startPostgresCluster().then((cluster) => {
    process.once('exit', () => {
      // Synchronous on exit: stop the server, then the folder goes.
      const bin = postgresBinDir()
      if (bin) {
        const [command, args] = asClusterOwner(join(bin, 'pg_ctl'), [
          'stop',
          '-D',
          join(cluster.dir, 'data'),
          '-m',
          'immediate',
        ])
        spawnSync(command, args, { stdio: 'ignore' })
      }
      rmSync(cluster.dir, { recursive: true, force: true })
    })
    return cluster
  })
  return own
}

/**
 * For the backend suites (store and run-lease contracts): a store on this
 * test file's database, created and migrated by the first call and emptied
 * before every later one; `openAnother` opens a second instance on it.
 */
export function postgresStoreForTest(runDir: string | undefined): () => Promise<StoreUnderTest> {
  let database: Promise<string> | undefined
  const cleanDatabase = async (): Promise<string> => {
    if (database === undefined) {
      database = sharedPostgres(runDir).then((cluster) => cluster.createDatabase())
      return database
    }
    const url = await database
    await emptyDatabase(url)
    return url
  }
  return async () => {
    const url = await cleanDatabase()
    return {
      store: await PostgresStore.open({ url, poolSize: 4 }),
      openAnother: () => PostgresStore.open({ url, poolSize: 4 }),
    }
  }
}

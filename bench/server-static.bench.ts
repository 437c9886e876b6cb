/**
 * bench:server-static — requests per second for one 20 KB file of a deployed
 * site, served by berth's HTTP app (`/workspace/<session>/<path>`) and by
 * Debian's nginx (2 workers, started here with its own config on a free
 * port) in the same run, loaded by `wrk` over loopback. Target: berth at
 * least 0.5 of nginx. Also prints berth's CPU time per request (user + system,
 * this process), which other load on the machine disturbs less than req/s.
 *
 *   npm run bench:server-static      (BENCH_SECONDS, BENCH_CONNECTIONS to change the load)
 *
 * Needs `nginx` and `wrk` (apt-get install -y nginx wrk).
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { RunManager } from '../src/agent/runs.js'
import { loadConfig } from '../src/config/config.js'
import { createLogger } from '../src/logging/logger.js'
import { prepareDataRoot } from '../src/runtime/storage-report.js'
import { createServer } from '../src/server/create-server.js'
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js'
import { hostShell } from '../src/tools/bash/sandbox.js'
import { Workspaces } from '../src/workspace/workspaces.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const THREADS = 2
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const SESSION = 'bench-site'
const FILE = 'site/page.html'
const run = promisify(execFile)

const root = await mkdtemp(join(tmpdir(), 'berth-bench-static-'))
let nginx: ChildProcess | null = null
try {
  for (const tool of ['nginx', 'wrk']) {
    await run('sh', ['-c', `command -v ${tool}`]).catch(() => {
      throw new Error(`${tool} is not installed: apt-get install -y nginx wrk`)
    })
  }
  const page = Buffer.from(
    `<!doctype html><meta charset="utf-8"><title>bench</title>\n${'<p>berth static bench</p>\n'.repeat(820)}`,
  )
  const body = page.subarray(0, 20 * 1024)

  // berth: the real app on a temp data root, the file deployed in a session.
  const config = loadConfig({ flags: { dataDir: root }, env: {}, envFile: false })
  const storage = await prepareDataRoot({ dataDir: root, env: {} })
  const store = await SqliteStore.open({ file: storage.paths.database })
  await mkdir(storage.paths.workspaces, { recursive: true })
  const workspaces = new Workspaces({ root: storage.paths.workspaces, quotaBytes: null })
  await store.createSession({ id: SESSION, workspaceDir: workspaces.dirFor(SESSION), deviceId: 'bench' })
  await workspaces.create(SESSION)
  await workspaces.writeFile(SESSION, FILE, body)
  const logger = createLogger({ level: 'silent', terminal: false })
  const runs = { isRunning: () => false } as unknown as RunManager
  const sandbox = hostShell('the static-file bench runs no shell')
  const workspaceStorage = workspaces.storage
  const app = await createServer({ config, store, workspaces, workspaceStorage, storage, logger, runs, sandbox })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const berthPort = (app.server.address() as { port: number }).port

  // nginx: the same file under the same URL, from the same folder.
  const nginxPort = await freePort()
  nginx = await startNginx(root, nginxPort)
  const path = `/workspace/${SESSION}/${FILE}`
  for (const [name, port] of [
    ['berth', berthPort],
    ['nginx', nginxPort],
  ] as const) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`)
    const got = Buffer.from(await response.arrayBuffer())
    if (response.status !== 200 || !got.equals(body))
      throw new Error(`${name} did not serve the file (${response.status})`)
  }

  console.log(
    `bench:server-static  (${body.length} B file, wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s, loopback)\n`,
  )
  const results: Record<string, number> = {}
  const cpuPerRequest: Record<string, number> = {}
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, port] of [
      ['nginx', nginxPort],
      ['berth', berthPort],
    ] as const) {
      await wrk(port, path, 1) // warm-up: caches, JIT, connection setup
      const before = name === 'berth' ? berthCpuMicros() : await nginxCpuMicros(nginx)
      const { rps, requests } = await wrk(port, path, SECONDS)
      const used = (name === 'berth' ? berthCpuMicros() : await nginxCpuMicros(nginx)) - before
      cpuPerRequest[name] = Math.min(cpuPerRequest[name] ?? Number.POSITIVE_INFINITY, used / requests)
      results[name] = Math.max(results[name] ?? 0, rps)
    }
  }
  const ratio = (results.berth ?? 0) / (results.nginx ?? 1)
  for (const [name, label] of [
    ['nginx', 'nginx (2 workers)'],
    ['berth', 'berth (1 process)'],
  ] as const) {
    const cpu = cpuPerRequest[name] ?? Number.NaN
    console.log(
      `  ${label.padEnd(20)} ${(results[name] ?? 0).toFixed(0).padStart(8)} req/s   ${cpu.toFixed(1)} µs CPU/request`,
    )
  }
  console.log(
    `  ratio berth/nginx    ${ratio.toFixed(2).padStart(8)}   (target >= 0.50: ${ratio >= 0.5 ? 'met' : 'NOT met'})`,
  )
  console.log(
    `\n  Best of ${ROUNDS} alternating rounds each. All three (wrk, nginx, berth) share this machine's cores, so other` +
      '\n  load skews req/s; CPU per request (user + system, all server processes) is steadier.',
  )
  await app.close()
  await store.close()
} finally {
  if (nginx !== null) await stopNginx(nginx)
  await rm(root, { recursive: true, force: true })
}

/** CPU time this process has used, in µs (berth serves from the bench process itself). */
function berthCpuMicros(): number {
  const { user, system } = process.cpuUsage()
  return user + system
}

/** CPU time of nginx's master and workers, in µs, from /proc (clock ticks of 10 ms on Linux). */
async function nginxCpuMicros(child: ChildProcess | null): Promise<number> {
  if (child?.pid === undefined) return Number.NaN
  const children = await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').catch(() => '')
  const pids = [child.pid, ...children.trim().split(/\s+/).filter(Boolean).map(Number)]
  let ticks = 0
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0) // utime, stime
  }
  return ticks * 10_000
}

/** Run wrk against one URL and return its requests/s; any error or non-2xx response fails the bench. */
async function wrk(port: number, path: string, seconds: number): Promise<{ rps: number; requests: number }> {
  const args = [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, `http://127.0.0.1:${port}${path}`]
  const { stdout } = await run('wrk', args, { timeout: (seconds + 30) * 1000 })
  if (/Non-2xx|Socket errors/.test(stdout)) throw new Error(`wrk saw errors:\n${stdout}`)
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout)
  const requests = /(\d+) requests in/.exec(stdout)
  if (rps === null || requests === null) throw new Error(`unexpected wrk output:\n${stdout}`)
  return { rps: Number(rps[1]), requests: Number(requests[1]) }
}

async function startNginx(dataRoot: string, port: number): Promise<ChildProcess> {
  const dir = join(dataRoot, '.nginx')
  await mkdir(dir, { recursive: true })
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((name) => `  ${name}_temp_path ${join(dir, name)};`)
    .join('\n')
  const conf = `
worker_processes 2;
daemon off;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
${temp}
  server {
    listen 127.0.0.1:${port};
    root ${dataRoot};
  }
}
`
  const file = join(dir, 'nginx.conf')
  await writeFile(file, conf)
  const child = spawn('nginx', ['-p', dir, '-c', file, '-e', join(dir, 'error.log')], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break
    const up = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    )
    if (up) return child
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')
  child.kill('SIGTERM')
  throw new Error(`nginx did not start:\n${log}`)
}

async function stopNginx(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGQUIT') // graceful: the master stops its workers
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))])
  if (child.exitCode === null) child.kill('SIGKILL')
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

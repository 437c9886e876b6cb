import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BerthProcess, startProcess } from '../helpers/berth-process.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { connect } from '../helpers/ws-client.js'

/**
 * A redeploy on a platform disk, for real: in a private mount namespace a
 * tmpfs hides the machine's /var and a test folder is bound at /var/data, as
 * Render mounts its disk. Two separate copies of the build take turns on it.
 */
const REPO = fileURLToPath(new URL('../../', import.meta.url))
const canRun =
  process.platform === 'linux' &&
  process.getuid?.() === 0 &&
  existsSync('/usr/bin/unshare') &&
  existsSync(join(REPO, 'dist', 'cli', 'main.js'))
const reason = !existsSync(join(REPO, 'dist', 'cli', 'main.js'))
  ? 'needs the build (npm run build; npm test does it first)'
  : 'needs root on Linux with unshare to make a private mount namespace'

let work: string
let llm: ScriptedLlm

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-redeploy-'))
  llm = await startScriptedOpenAi()
})
afterAll(async () => {
  await llm?.close()
  await rm(work, { recursive: true, force: true })
})

/** A deployable copy of the build: dist/ and package.json of its own, the dependencies linked. */
async function copyOfBuild(name: string): Promise<string> {
  const dir = join(work, name)
  await mkdir(dir, { recursive: true })
  await cp(join(REPO, 'dist'), join(dir, 'dist'), { recursive: true })
  await cp(join(REPO, 'package.json'), join(dir, 'package.json'))
  await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'))
  return dir
}

/** Run a built copy's CLI in a new mount namespace: tmpfs over /var, and the disk (if any) at /var/data. */
function inNamespace(copy: string, disk: string | null, args: string[]): BerthProcess {
  const mounts = disk
    ? 'mount -t tmpfs tmpfs /var && mkdir -p /var/data && mount --bind "$DISK" /var/data'
    : 'mount -t tmpfs tmpfs /var'
  return startProcess(
    'unshare',
    ['-m', '--propagation', 'private', 'sh', '-c', `${mounts} && exec "$NODE" dist/cli/main.js "$@"`, 'sh', ...args],
    {
      cwd: copy,
      env: {
        DISK: disk ?? '',
        NODE: process.execPath,
        BERTH_DATA_DIR: undefined,
        RAILWAY_VOLUME_MOUNT_PATH: undefined,
        CHUTES_API_KEY: 'test-key',
        CHUTES_BASE_URL: llm.url,
        BERTH_LLM_RETRY_DELAY_MS: '1',
      },
    },
  )
}

async function serve(copy: string, disk: string | null) {
  const server = inNamespace(copy, disk, ['serve', '--host', '127.0.0.1', '--port', '0'])
  const [, port] = await server.waitFor(/listening on http:\/\/[^\s:]+:(\d+)/)
  return Object.assign(server, { url: `http://127.0.0.1:${port}`, port: Number(port) })
}

const DEVICE = 'redeploy-device'
const headers = { 'content-type': 'application/json', 'x-device-id': DEVICE }

describe.skipIf(!canRun)(`redeploy on a persistent disk (${canRun ? 'runs' : `skipped: ${reason}`})`, () => {
  it('keeps sessions, events, uploads, deployed pages and share links across a redeploy, and says local mode without a disk', async () => {
    const disk = join(work, 'disk')
    await mkdir(disk)
    const first = await copyOfBuild('build-1')
    const second = await copyOfBuild('build-2')

    // Deploy 1.
    const one = await serve(first, disk)
    expect(one.output().stderr).toContain('Using persistent storage for workspace files')
    expect(one.output().stderr).toContain('Data root /var/data')
    const ready = (await (await fetch(`${one.url}/readyz`)).json()) as any
    expect(ready.storage).toMatchObject({ mode: 'persistent', source: 'persistent-default' })

    const socket = await connect(`ws://127.0.0.1:${one.port}/ws?device_id=${DEVICE}`)
    const sessionId = (await socket.next('connection_established')).content.session_uuid as string
    const upload = await fetch(`${one.url}/api/upload`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        session_id: sessionId,
        file: { path: 'brief.txt', content: `data:text/plain;base64,${Buffer.from('the brief ✓').toString('base64')}` },
      }),
    })
    expect(upload.status).toBe(200)
    llm.enqueue(
      {
        toolCalls: [
          {
            name: 'str_replace_editor',
            arguments: { command: 'create', path: 'site/index.html', file_text: '<h1>Redeployed</h1>' },
          },
        ],
      },
      { toolCalls: [{ name: 'static_deploy', arguments: { file_path: 'site' } }] },
      { text: 'Your site is live.' },
    )
    socket.send({ type: 'query', content: { text: 'Deploy a site', files: ['uploaded_files/brief.txt'] } })
    await socket.next('stream_complete')
    await socket.close()
    const share = (await (
      await fetch(`${one.url}/api/sessions/${sessionId}/share`, { method: 'POST', headers, body: '{}' })
    ).json()) as any
    const before = (await (await fetch(`${one.url}/api/sessions/${sessionId}/events`, { headers })).json()) as any
    const sitePath = `/workspace/${sessionId}/site/`
    expect(await (await fetch(`${one.url}${sitePath}`)).text()).toBe('<h1>Redeployed</h1>')
    expect(await one.stop('SIGTERM')).toBe(0)

    // Deploy 2: another copy of the build, the same disk.
    const two = await serve(second, disk)
    const listed = (await (await fetch(`${two.url}/api/sessions/${DEVICE}`, { headers })).json()) as any
    expect(listed.sessions.map((s: any) => s.id)).toEqual([sessionId])
    const after = (await (await fetch(`${two.url}/api/sessions/${sessionId}/events`, { headers })).json()) as any
    expect(after.events).toEqual(before.events)
    const uploaded = (await (
      await fetch(`${two.url}/api/files/content`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ workspace_id: sessionId, path: 'uploaded_files/brief.txt' }),
      })
    ).json()) as any
    expect(uploaded.content).toBe('the brief ✓')
    expect(await (await fetch(`${two.url}${sitePath}`)).text()).toBe('<h1>Redeployed</h1>')
    const shared = await fetch(`${two.url}/api/share/${share.share.token}/events`)
    expect(shared.status).toBe(200)
    expect(((await shared.json()) as any).events.length).toBe(before.events.length)
    expect(await two.stop('SIGTERM')).toBe(0)

    // Neither copy of the build gained data files: everything went to the disk.
    for (const copy of [first, second]) {
      expect((await readdir(copy)).sort()).toEqual(['dist', 'node_modules', 'package.json'])
    }
    expect((await readdir(disk)).filter((name) => !name.startsWith('.'))).toEqual(
      expect.arrayContaining(['events.db', 'workspace', 'agent_logs.txt']),
    )

    // No disk at all: local mode, said in the log, /readyz and doctor.
    const bare = await copyOfBuild('build-no-disk')
    const local = await serve(bare, null)
    expect(local.output().stderr).toContain('Using local storage for workspace files')
    expect(((await (await fetch(`${local.url}/readyz`)).json()) as any).storage.mode).toBe('local')
    expect(await local.stop('SIGTERM')).toBe(0)
    const doctor = inNamespace(bare, null, ['doctor', '--json'])
    await doctor.exited
    const report = JSON.parse(doctor.output().stdout) as any
    expect(report.storage).toMatchObject({ mode: 'local', source: 'cwd', root: bare })
  })
})

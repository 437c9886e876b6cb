import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startBerth, startServer } from '../helpers/berth-process.js'
import { tempDir } from '../helpers/temp-dir.js'

describe('berth serve', () => {
  it('starts on an explicit root, logs where data lives, appends to the log and stops on SIGTERM', async () => {
    const cwd = await tempDir()
    const root = join(cwd, 'data')
    await mkdir(root)
    await writeFile(join(root, 'agent_logs.txt'), '{"msg":"a line from before"}\n')
    const server = await startServer({ cwd, args: ['--data-dir', root] })
    const { stderr } = server.output()
    expect(stderr).toContain('Using persistent storage for workspace files')
    expect(stderr).toContain(`Data root ${root}`)

    const health = await fetch(`${server.url}/healthz`)
    expect(await health.json()).toEqual({ status: 'ok' })
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as Record<string, any>
    expect(ready.ready).toBe(true)
    expect(ready.store.writable).toBe(true)
    expect(ready.storage).toMatchObject({ mode: 'persistent', persistent: true, source: 'flag' })

    expect(await server.stop('SIGTERM')).toBe(0)
    const log = await readFile(join(root, 'agent_logs.txt'), 'utf8')
    const lines = log.trim().split('\n')
    expect(lines[0]).toBe('{"msg":"a line from before"}')
    const parsed = lines.slice(1).map((line) => JSON.parse(line) as { msg: string })
    expect(parsed.map((line) => line.msg)).toContain('Using persistent storage for workspace files')
    expect(parsed.map((line) => line.msg)).toContain('berth stopped')
  })

  it('uses the current directory when nothing else is chosen, and says it is local storage', async () => {
    const cwd = await tempDir()
    const server = await startServer({ cwd, env: { BERTH_DATA_DIR: undefined, RAILWAY_VOLUME_MOUNT_PATH: undefined } })
    // A machine with a real /var/data would pick it; this one must not have one for the assertion to hold.
    const { stderr } = server.output()
    if (stderr.includes('found /var/data')) {
      await server.stop()
      return
    }
    expect(stderr).toContain('Using local storage for workspace files')
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as Record<string, any>
    expect(ready.storage.mode).toBe('local')
    await server.stop()
    await expect(readFile(join(cwd, 'events.db'))).resolves.toBeInstanceOf(Buffer)
  })

  it('refuses a second server on the same root with a clear message', async () => {
    const root = await tempDir()
    const first = await startServer({ cwd: root, args: ['--data-dir', root] })
    const second = startBerth(['serve', '--port', '0', '--data-dir', root], { cwd: root })
    expect(await second.exited).toBe(1)
    expect(second.output().stderr).toMatch(/in use by another berth server \(pid \d+/)
    expect(second.output().stderr).toContain('Only one server may use a data root at a time')
    await first.stop()
  })

  it('refuses to start on a root it cannot write, naming the path, the user and the fix', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip('needs root to run the server as another user')
    const parent = await tempDir()
    const root = join(parent, 'readonly-root')
    await mkdir(root)
    await chmod(parent, 0o755)
    await chmod(root, 0o555)
    const berth = startBerth(['serve', '--port', '0', '--data-dir', root], { cwd: '/', uid: 65534, gid: 65534 })
    expect(await berth.exited).toBe(1)
    const { stderr } = berth.output()
    expect(stderr).toContain(root)
    expect(stderr).toContain('65534')
    expect(stderr).toContain('chown')
    expect(stderr).not.toContain('Using local storage')
  })
})

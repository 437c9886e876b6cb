import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import type { PersistentShell } from '../../src/tools/bash/persistent-shell.js'
import { createBashTool, SHELL_RESOURCE } from '../../src/tools/bash.js'
import { runTool } from '../../src/tools/run-tool.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'

const contexts: FakeToolContext[] = []
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.resources.dispose()
})

async function setup(timeoutSeconds = 20, secretValues: string[] = []) {
  const context = await makeToolContext()
  contexts.push(context)
  const bash = createBashTool({ timeoutSeconds, secretValues })
  const run = (command: string, timeout?: number) =>
    runTool(bash, timeout === undefined ? { command } : { command, timeout }, context)
  return { context, bash, run }
}

/** Alive and not a zombie (a killed child can linger as a zombie until reaped). */
async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  return stat !== '' && !/^\d+ \(.*\) Z/.test(stat)
}

async function waitUntilDead(pid: number, ms = 2000): Promise<boolean> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (!(await isAlive(pid))) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return !(await isAlive(pid))
}

describe('bash', () => {
  it('keeps cwd, variables and functions between calls, starting in the workspace', async () => {
    const { context, run } = await setup()
    expect((await run('pwd')).output.trim()).toBe(context.workspaceDir)
    await run('mkdir -p sub && cd sub && export GREETING=hello && shout() { echo "$1!"; }')
    const result = await run('pwd; echo $GREETING; shout hi')
    expect(result.output).toBe(`${path.join(context.workspaceDir, 'sub')}\nhello\nhi!\n`)
  })

  it('reports the exit code, merges stderr, and survives syntax errors and open quotes', async () => {
    const { run } = await setup()
    expect(await run('echo out; echo err >&2; exit_code() { return 3; }; exit_code')).toEqual({
      output: 'out\nerr\n[exit code: 3]',
    })
    const open = await run("echo 'never closed")
    expect(open.output).toMatch(/unexpected EOF/)
    expect(open.output).toMatch(/\[exit code: 2\]$/)
    expect((await run('printf no-newline')).output).toBe('no-newline')
    expect((await run('true')).output).toBe('(no output)')
    // stdin is empty: a command that reads it ends at once instead of hanging
    expect((await run('cat; read line; echo "read: [$line]"')).output).toBe('read: []\n')
  })

  it('restarts the shell when a command exits it', async () => {
    const { context, run } = await setup()
    await run('cd uploaded_files')
    const exited = await run('echo bye; exit 4')
    expect(exited.isError).toBe(true)
    expect(exited.output).toMatch(/^bye\n\[The shell exited \(code 4\)/)
    expect((await run('pwd')).output.trim()).toBe(context.workspaceDir)
  })

  it('kills the whole process group on timeout, then restarts the shell', async () => {
    const { context, run } = await setup()
    await run('cd agent_memory')
    const started = Date.now()
    const result = await run('sleep 300 & echo $! > ../child.pid; echo started; sleep 300', 0.5)
    expect(Date.now() - started).toBeLessThan(3000)
    expect(result.isError).toBe(true)
    expect(result.output).toMatch(/^started\n\[Command timed out after 0.5 s/)
    const childPid = Number(await readFile(path.join(context.workspaceDir, 'child.pid'), 'utf8'))
    expect(await waitUntilDead(childPid)).toBe(true)
    // A fresh shell: back in the workspace folder.
    expect((await run('pwd')).output.trim()).toBe(context.workspaceDir)
  })

  it('stops a command within a second of the abort, killing what it started', async () => {
    const { context, run } = await setup()
    const pending = run('sleep 200 & echo $! > child.pid; sleep 200')
    const shellPid = await waitForShell(context)
    await waitForFile(path.join(context.workspaceDir, 'child.pid'))
    const abortedAt = Date.now()
    context.controller.abort()
    const result = await pending
    expect(Date.now() - abortedAt).toBeLessThan(1000)
    expect(result.isError).toBe(true)
    expect(result.output).toMatch(/cancelled/)
    const childPid = Number(await readFile(path.join(context.workspaceDir, 'child.pid'), 'utf8'))
    expect(await waitUntilDead(childPid)).toBe(true)
    expect(await waitUntilDead(shellPid)).toBe(true)
  })

  it('caps 100 MB of output with flat memory, keeping head and tail', async () => {
    const { context, run } = await setup(60)
    await run('true') // start the shell before measuring
    const before = measure()
    let peakRss = before.rss
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
    }, 20)
    const result = await run('yes | head -c 100000000; echo; echo THE-END')
    clearInterval(sampler)
    const after = measure()
    expect(result.output.length).toBeLessThan(30_000)
    expect(result.output.startsWith('y\ny\ny\n')).toBe(true)
    expect(result.output).toMatch(/characters omitted \(100,000,009 in all\)/)
    expect(result.output.endsWith('y\n\nTHE-END\n')).toBe(true)
    // Holding the output would take 100-200 MB; allow for buffers and GC lag.
    expect(peakRss - before.rss).toBeLessThan(64 * 1024 * 1024)
    expect(after.heapUsed - before.heapUsed).toBeLessThan(20 * 1024 * 1024)
    // Live output is bounded too.
    expect(context.transient().length).toBeLessThan(1_100_000)
    expect(context.transient()).toMatch(/live output stops here/)
  })

  it('streams output live through emitTransient', async () => {
    const { context, run } = await setup()
    await run('for i in 1 2 3; do echo line-$i; done')
    expect(context.transient()).toBe('line-1\nline-2\nline-3\n')
  })

  it('keeps secrets out of the shell environment', async () => {
    process.env.BERTH_TEST_SERVICE_API_KEY = 'sk-test-secret-1'
    process.env.BERTH_AUTH_TOKEN = 'auth-token-secret-2'
    process.env.SOME_TEST_API_KEY = 'sk-test-secret-3'
    process.env.INNOCENT_LOOKING_VAR = 'configured-secret-value-4'
    try {
      const { run } = await setup(20, ['configured-secret-value-4'])
      const env = (await run('env')).output
      expect(env).toMatch(/^PATH=/m)
      for (const secret of [
        'sk-test-secret-1',
        'auth-token-secret-2',
        'sk-test-secret-3',
        'configured-secret-value-4',
      ]) {
        expect(env).not.toContain(secret)
      }
    } finally {
      delete process.env.BERTH_TEST_SERVICE_API_KEY
      delete process.env.BERTH_AUTH_TOKEN
      delete process.env.SOME_TEST_API_KEY
      delete process.env.INNOCENT_LOOKING_VAR
    }
  })

  it('kills the shell when the session resources are disposed', async () => {
    const { context, run } = await setup()
    await run('true')
    const pid = shellOf(context).pid as number
    expect(await isAlive(pid)).toBe(true)
    await context.resources.dispose()
    expect(await waitUntilDead(pid)).toBe(true)
  })
})

function shellOf(context: FakeToolContext): PersistentShell {
  return context.resources.get<PersistentShell>(SHELL_RESOURCE, () => {
    throw new Error('no shell yet')
  })
}

async function waitForShell(context: FakeToolContext): Promise<number> {
  for (let i = 0; i < 100; i++) {
    try {
      const pid = shellOf(context).pid
      if (pid !== null) return pid
    } catch {
      // not created yet
    }
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error('the shell did not start')
}

async function waitForFile(file: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await readFile(file, 'utf8').catch(() => '')).trim() !== '') return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`${file} never appeared`)
}

function measure(): NodeJS.MemoryUsage {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
  return process.memoryUsage()
}

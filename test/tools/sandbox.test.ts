import { spawnSync } from 'node:child_process'
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.js'
import { isBerthError } from '../../src/core/errors.js'
import { openRuntime } from '../../src/runtime/runtime.js'
import { runTerminalCommand } from '../../src/server/ws/terminal.js'
import { chooseSandbox, hostShell, removeStaleScratch } from '../../src/tools/bash/sandbox.js'
import { createBashTool } from '../../src/tools/bash.js'
import { runTool } from '../../src/tools/run-tool.js'
import { processesWith, uniqueSleep } from '../helpers/processes.js'
import { tempDir } from '../helpers/temp-dir.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'

// These tests need bubblewrap (`apt-get install bubblewrap`; .ci/run installs it).

const contexts: FakeToolContext[] = []
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.resources.dispose()
})

/** A workspace under a data root that also holds a database and another session, and a sandboxed bash tool. */
async function setup() {
  const context = await makeToolContext()
  contexts.push(context)
  const dataRoot = path.dirname(context.root)
  await writeFile(path.join(dataRoot, 'events.db'), 'every session of every user')
  await mkdir(context.outside, { recursive: true })
  await writeFile(path.join(context.outside, 'notes.txt'), 'outside')
  const other = path.join(context.root, 'another-session')
  await mkdir(other)
  await writeFile(path.join(other, 'private.txt'), 'not yours')
  const sandbox = await chooseSandbox('bubblewrap', { hidden: [dataRoot] })
  const bash = createBashTool({ timeoutSeconds: 20, sandbox })
  const run = (command: string, timeout?: number) =>
    runTool(bash, timeout === undefined ? { command } : { command, timeout }, context)
  return { context, dataRoot, other, sandbox, run }
}

/** The host folder that some sandbox used as /tmp and wrote `marker` into, or null. */
async function findScratch(marker: string): Promise<string | null> {
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith('berth-shell-')) continue
    const mark = await readFile(path.join(tmpdir(), name, 'mark'), 'utf8').catch(() => '')
    if (mark.trim() === marker) return path.join(tmpdir(), name)
  }
  return null
}

describe('the agent shell in bubblewrap', () => {
  it('works in its workspace, which the host sees, and sees nothing else of the data root', async () => {
    const { context, dataRoot, other, run } = await setup()
    expect((await run('pwd; echo $HOME')).output).toBe(`${context.workspaceDir}\n/tmp\n`)
    expect((await run('echo made inside > out.txt && cat out.txt')).output).toBe('made inside\n')
    expect(await readFile(path.join(context.workspaceDir, 'out.txt'), 'utf8')).toBe('made inside\n')

    const database = await run(`cat ${path.join(dataRoot, 'events.db')}`)
    expect(database.output).toContain('No such file or directory')
    expect(database.output).toContain('[exit code: 1]')
    expect((await run(`cat ${path.join(other, 'private.txt')}`)).output).toContain('No such file or directory')
    expect((await run(`cat ${path.join(context.outside, 'notes.txt')}`)).output).toContain('No such file')
    // Only its own session under workspace/.
    expect((await run(`ls ${context.root}`)).output).toBe(`${path.basename(context.workspaceDir)}\n`)
  })

  it('tells the model about the sandbox in the bash tool description, and only when there is one', async () => {
    const { sandbox } = await setup()
    expect(createBashTool({ timeoutSeconds: 20, sandbox }).description).toContain('The shell runs in a sandbox')
    const host = createBashTool({ timeoutSeconds: 20, sandbox: hostShell('host') }).description
    expect(host).not.toContain('sandbox')
  })

  it('keeps the system read-only and its secrets unreadable, while programs still run', async () => {
    const { run } = await setup()
    const write = await run('touch /usr/berth-sandbox-test')
    expect(write.output).toContain('Read-only file system')
    expect(write.output).toContain('[exit code: 1]')
    expect((await run('cat /etc/shadow 2>/dev/null | wc -c')).output.trim()).toBe('0')
    expect((await run('ls /root 2>&1; true')).output).toContain('No such file or directory')
    expect((await run('python3 -c "print(6 * 7)"')).output).toBe('42\n')
    expect((await run('ps -e -o comm= | grep -c . ')).output.trim()).toMatch(/^[1-5]$/) // its own few processes
  })

  it('kills everything the command started on timeout, then starts a fresh sandbox', async () => {
    const { context, run } = await setup()
    const marker = uniqueSleep()
    const result = await run(`sleep ${marker} & echo started; sleep ${marker}`, 0.5)
    expect(result.isError).toBe(true)
    expect(result.output).toMatch(/^started\n\[Command timed out after 0.5 s/)
    const until = Date.now() + 3000
    while (processesWith(marker).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25))
    expect(processesWith(marker)).toEqual([])
    expect((await run('pwd')).output.trim()).toBe(context.workspaceDir)
  })

  it('gives each shell its own /tmp on the host disk, removed when the shell goes', async () => {
    const { context, run } = await setup()
    const marker = uniqueSleep()
    // (The data root of these tests lies under /tmp, so its hiding place shows here too.)
    expect((await run(`echo ${marker} > /tmp/mark; ls /tmp`)).output.split('\n')).toContain('mark')
    const scratch = await findScratch(marker)
    expect(scratch).not.toBeNull()
    await context.resources.dispose()
    await expect.poll(() => findScratch(marker)).toBeNull()
  })

  it("runs the WebSocket's terminal_command in the same sandbox", async () => {
    const { context, dataRoot, sandbox } = await setup()
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' }
    const inside = await runTerminalCommand('echo hi > t.txt; cat t.txt', context.workspaceDir, env, sandbox)
    expect(inside).toEqual({ output: 'hi\n', success: true })
    expect(await readFile(path.join(context.workspaceDir, 't.txt'), 'utf8')).toBe('hi\n')
    const outside = await runTerminalCommand(`cat ${dataRoot}/events.db`, context.workspaceDir, env, sandbox)
    expect(outside.success).toBe(false)
    expect(outside.output).toContain('No such file or directory')
  })
  it('shows BERTH_SANDBOX_READONLY paths read-only, and a data root inside one stays hidden', async () => {
    const { context, dataRoot } = await setup()
    const tools = await tempDir('berth-toolchain-')
    await writeFile(path.join(tools, 'hello'), '#!/bin/sh\necho hello from a toolchain\n', { mode: 0o755 })
    // Listing the data root as well must not show it.
    const sandbox = await chooseSandbox('bubblewrap', { hidden: [dataRoot], readOnly: [tools, dataRoot] })
    const bash = createBashTool({ timeoutSeconds: 20, sandbox })
    const run = (command: string) => runTool(bash, { command }, context)
    expect((await run(`${tools}/hello`)).output).toBe('hello from a toolchain\n')
    expect((await run(`touch ${tools}/mine`)).output).toContain('Read-only file system')
    expect((await run(`cat ${dataRoot}/events.db`)).output).toContain('No such file or directory')
    expect((await run('echo still writable > w.txt; cat w.txt')).output).toBe('still writable\n')
  })
})

describe('chooseSandbox', () => {
  const hidden = ['/nonexistent-data-root']
  const refusal = async (promise: Promise<unknown>) => {
    try {
      await promise
    } catch (error) {
      return isBerthError(error) ? error : null
    }
    return null
  }

  it('auto falls back to the host and says why when bwrap is missing or fails; bubblewrap refuses instead', async () => {
    const missing = await chooseSandbox('auto', { hidden, bwrap: '/nonexistent/bwrap' })
    expect(missing.kind).toBe('host')
    expect(missing.description).toContain('/nonexistent/bwrap is not installed')
    expect(missing.launch(['bash', '-c', 'true'], '/w').argv).toEqual(['bash', '-c', 'true'])
    const broken = await chooseSandbox('auto', { hidden, bwrap: '/bin/false' })
    expect(broken.kind).toBe('host')
    expect(broken.description).toContain('/bin/false failed')

    const required = await refusal(chooseSandbox('bubblewrap', { hidden, bwrap: '/nonexistent/bwrap' }))
    expect(required?.code).toBe('SANDBOX_UNAVAILABLE')
    expect(required?.message).toContain('apt-get install bubblewrap')
  })

  it('removes the /tmp folders of berth processes that are gone, and only those', async () => {
    const dead = spawnSync('true').pid as number
    const names = [`berth-shell-${dead}-aaaaaa`, `berth-shell-${process.pid}-bbbbbb`, 'berth-shell-notapid-cccccc']
    for (const name of names) await mkdir(path.join(tmpdir(), name, 'cache'), { recursive: true })
    try {
      expect(await removeStaleScratch()).toContain(names[0])
      const left = await readdir(tmpdir())
      expect(left).not.toContain(names[0])
      expect(left).toContain(names[1])
      expect(left).toContain(names[2])
    } finally {
      for (const name of names) await rm(path.join(tmpdir(), name), { recursive: true, force: true })
    }
  })

  it('a runtime that runs shells starts with bubblewrap and clears stale folders; a bad sandbox setting stops it cleanly', async () => {
    const dead = spawnSync('true').pid as number
    const stale = path.join(tmpdir(), `berth-shell-${dead}-runtime`)
    await mkdir(stale, { recursive: true })
    const root = await tempDir()
    const runtime = await openRuntime(loadConfig({ env: { BERTH_DATA_DIR: root }, envFile: false }), {
      role: 'writer',
      command: 'test',
      terminalLogs: false,
    })
    try {
      expect(runtime.sandbox.kind).toBe('bubblewrap')
      expect(
        await stat(stale).then(
          () => 'there',
          () => 'gone',
        ),
      ).toBe('gone')
    } finally {
      await runtime.close()
      await rm(stale, { recursive: true, force: true })
    }
    // A refusal releases the root: the next start (as the server, which takes the lock) works.
    const open = (env: Record<string, string>) =>
      openRuntime(loadConfig({ env: { BERTH_DATA_DIR: root, ...env }, envFile: false }), {
        role: 'server',
        command: 'test',
        terminalLogs: false,
      })
    const refused = await refusal(open({ BERTH_SANDBOX_READONLY: '/opt/no-such-toolchain' }))
    expect(refused?.code).toBe('CONFIG_INVALID')
    await (await open({})).close()

    // A writer that runs no shell (berth import) probes nothing, and a shell started by mistake fails.
    const importer = await openRuntime(
      loadConfig({ env: { BERTH_DATA_DIR: root, BERTH_SANDBOX: 'bubblewrap' }, envFile: false }),
      { role: 'writer', command: 'berth import', terminalLogs: false, shells: false },
    )
    try {
      expect(importer.sandbox.kind).toBe('none')
      expect(() => importer.sandbox.launch(['bash'], root)).toThrow(/berth import runs no agent shell/)
    } finally {
      await importer.close()
    }
  })

  it('refuses a BERTH_SANDBOX_READONLY path that does not exist', async () => {
    const typo = await refusal(chooseSandbox('auto', { hidden, readOnly: ['/opt/no-such-toolchain'] }))
    expect(typo?.code).toBe('CONFIG_INVALID')
    expect(typo?.message).toContain('/opt/no-such-toolchain')
  })

  it('off never tries bwrap; auto uses it when it runs', async () => {
    expect((await chooseSandbox('off', { hidden, bwrap: '/bin/false' })).kind).toBe('host')
    const sandbox = await chooseSandbox('auto', { hidden })
    expect(sandbox.kind).toBe('bubblewrap')
    const ws = '/data/workspace/s1'
    const launch = sandbox.launch(['bash'], ws)
    const { argv } = launch
    expect(argv[0]).toBe('bwrap')
    expect(argv.slice(-9)).toEqual(['--bind', ws, ws, '--chdir', ws, '--setenv', 'HOME', '/tmp', 'bash'])
    expect(argv.join(' ')).toContain('--tmpfs /nonexistent-data-root')
    // /tmp inside is a fresh folder on the host's disk, gone after cleanup.
    const scratch = argv[argv.indexOf('/tmp') - 1] as string
    expect(argv[argv.indexOf('/tmp') - 2]).toBe('--bind')
    expect((await stat(scratch)).isDirectory()).toBe(true)
    launch.cleanup()
    await expect
      .poll(() =>
        stat(scratch).then(
          () => 'there',
          () => 'gone',
        ),
      )
      .toBe('gone')
  })
})

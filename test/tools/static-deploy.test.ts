import { mkdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { runTool } from '../../src/tools/run-tool.js'
import { createStaticDeployTool } from '../../src/tools/static-deploy.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'

const deploy = createStaticDeployTool()
let context: FakeToolContext
afterEach(async () => {
  await context?.resources.dispose()
})

describe('static_deploy', () => {
  it('returns the stable URL of a file, with each segment URL-encoded', async () => {
    context = await makeToolContext({ publicUrl: 'https://berth.example.com/' })
    await mkdir(path.join(context.workspaceDir, 'my site'))
    await writeFile(path.join(context.workspaceDir, 'my site', 'page #1?.html'), '<p>hi</p>')
    const result = await runTool(deploy, { file_path: 'my site/page #1?.html' }, context)
    expect(result).toEqual({
      output: `https://berth.example.com/workspace/${context.sessionId}/my%20site/page%20%231%3F.html`,
    })
  })

  it('gives folders a trailing slash, and returns the bare URL that the reference frontend loads as is', async () => {
    context = await makeToolContext()
    await mkdir(path.join(context.workspaceDir, 'site/css'), { recursive: true })
    for (const file of ['site/index.html', 'site/css/a.css', 'site/css/b.css']) {
      await writeFile(path.join(context.workspaceDir, file), 'x')
    }
    const result = await runTool(deploy, { file_path: '/workspace/site' }, context)
    expect(result).toEqual({ output: `https://berth.example.com/workspace/${context.sessionId}/site/` })
    const root = await runTool(deploy, { file_path: '.' }, context)
    expect(root).toEqual({ output: `https://berth.example.com/workspace/${context.sessionId}/` })
    // What used to follow the URL is in the description, where the model reads it.
    expect(deploy.description).toMatch(/The result is the URL and nothing else/)
    expect(deploy.description).toMatch(/serves the index\.html/)
  })

  it('never hands out 0.0.0.0, and says so in the log instead of the result', async () => {
    const warnings: string[] = []
    context = await makeToolContext({ publicUrl: 'http://0.0.0.0:8000' })
    context.logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) })
    await writeFile(path.join(context.workspaceDir, 'a.html'), 'x')
    const result = await runTool(deploy, { file_path: 'a.html' }, context)
    expect(result).toEqual({ output: `http://localhost:8000/workspace/${context.sessionId}/a.html` })
    expect(warnings.join('')).toMatch(/localhost was used instead/)
  })

  it('refuses missing paths and paths outside the workspace', async () => {
    context = await makeToolContext()
    expect(await runTool(deploy, { file_path: 'nope.html' }, context)).toEqual({
      output: 'Path does not exist: nope.html',
      isError: true,
    })
    await mkdir(context.outside, { recursive: true })
    await writeFile(path.join(context.outside, 'x.html'), 'x')
    await symlink(context.outside, path.join(context.workspaceDir, 'out'))
    for (const file_path of ['../x.html', '/etc/passwd', 'out/x.html', 'out']) {
      const result = await runTool(deploy, { file_path }, context)
      expect(result.isError, file_path).toBe(true)
      expect(result.output).not.toContain('https://')
    }
  })
})

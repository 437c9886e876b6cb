import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runTool } from '../../src/tools/run-tool.js'
import { createStrReplaceEditorTool } from '../../src/tools/str-replace-editor.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'

const editor = createStrReplaceEditorTool()
let context: FakeToolContext
afterEach(async () => {
  await context?.resources.dispose()
})

const run = (input: Record<string, unknown>) => runTool(editor, input, context)
const read = (rel: string) => readFile(path.join(context.workspaceDir, rel), 'utf8')

describe('str_replace_editor', () => {
  it('creates a file (with folders), emits file_edit with the relative path, and refuses to overwrite', async () => {
    context = await makeToolContext()
    const created = await run({ command: 'create', path: 'site/index.html', file_text: '<h1>Hi</h1>\n<p>x</p>\n' })
    expect(created).toEqual({ output: 'File created successfully at: site/index.html' })
    expect(await read('site/index.html')).toBe('<h1>Hi</h1>\n<p>x</p>\n')
    expect(context.events).toEqual([
      { type: 'file_edit', content: { path: 'site/index.html', content: '<h1>Hi</h1>\n<p>x</p>\n', total_lines: 2 } },
    ])
    const again = await run({ command: 'create', path: 'site/index.html', file_text: 'other' })
    expect(again.isError).toBe(true)
    expect(again.output).toMatch(/File already exists and is not empty at: site\/index.html/)
    expect(await read('site/index.html')).toBe('<h1>Hi</h1>\n<p>x</p>\n')
    const missingText = await run({ command: 'create', path: 'b.txt' })
    expect(missingText).toEqual({
      output: 'Error: Parameter `file_text` is required for command: create',
      isError: true,
    })
  })

  it('views a file with line numbers, a line range, and a folder two levels deep without hidden entries', async () => {
    context = await makeToolContext()
    await writeFile(path.join(context.workspaceDir, 'a.txt'), 'one\ntwo\nthree')
    expect((await run({ command: 'view', path: 'a.txt' })).output).toBe(
      "Here's the result of running `cat -n` on a.txt:\n     1\tone\n     2\ttwo\n     3\tthree\nTotal lines in file: 3\n",
    )
    expect((await run({ command: 'view', path: 'a.txt', view_range: [2, -1] })).output).toBe(
      "Here's the result of running `cat -n` on a.txt:\n     2\ttwo\n     3\tthree\nTotal lines in file: 3\n",
    )
    const badRange = await run({ command: 'view', path: 'a.txt', view_range: [0, 2] })
    expect(badRange.isError).toBe(true)
    expect(badRange.output).toMatch(/should be within the range of lines of the file: \[1, 3\]/)

    await mkdir(path.join(context.workspaceDir, 'site/css/deep'), { recursive: true })
    await writeFile(path.join(context.workspaceDir, 'site/css/deep/x.css'), '')
    await writeFile(path.join(context.workspaceDir, '.env'), 'SECRET=1')
    await mkdir(path.join(context.workspaceDir, '.git'))
    const listing = (await run({ command: 'view', path: '.' })).output
    expect(listing).toBe(
      "Here's the files and directories up to 2 levels deep in ., excluding hidden items:\n" +
        './\na.txt\nagent_memory/\nsite/\nuploaded_files/\nsite/css/\n',
    )
  })

  it('replaces exactly one occurrence and refuses none or several, naming their lines', async () => {
    context = await makeToolContext()
    await writeFile(path.join(context.workspaceDir, 'app.py'), 'a = 1\nb = 2\nprint(a)\nprint(a)\n')
    const ok = await run({ command: 'str_replace', path: 'app.py', old_str: 'b = 2', new_str: 'b = 3\nc = 4' })
    expect(ok.isError).toBeUndefined()
    expect(ok.output).toMatch(
      /^The file app.py has been edited\. Here's the result of running `cat -n` on a snippet of app.py:\n/,
    )
    expect(ok.output).toContain('     2\tb = 3\n     3\tc = 4\n')
    expect(await read('app.py')).toBe('a = 1\nb = 3\nc = 4\nprint(a)\nprint(a)\n')
    expect(context.events.at(-1)).toEqual({
      type: 'file_edit',
      content: { path: 'app.py', content: 'a = 1\nb = 3\nc = 4\nprint(a)\nprint(a)\n', total_lines: 5 },
    })

    const several = await run({ command: 'str_replace', path: 'app.py', old_str: 'print(a)', new_str: 'x' })
    expect(several.isError).toBe(true)
    expect(several.output).toMatch(
      /Multiple occurrences \(2\) of old_str[\s\S]*in lines \[4, 5\]\. Please ensure it is unique/,
    )
    const none = await run({ command: 'str_replace', path: 'app.py', old_str: 'zzz', new_str: 'x' })
    expect(none.output).toMatch(/did not appear verbatim in app.py/)
    expect(await read('app.py')).toBe('a = 1\nb = 3\nc = 4\nprint(a)\nprint(a)\n')
  })

  it('inserts after a line and checks the line number', async () => {
    context = await makeToolContext()
    await writeFile(path.join(context.workspaceDir, 'l.txt'), 'one\ntwo')
    await run({ command: 'insert', path: 'l.txt', insert_line: 1, new_str: 'one and a half' })
    expect(await read('l.txt')).toBe('one\none and a half\ntwo')
    await run({ command: 'insert', path: 'l.txt', insert_line: '0', new_str: 'zero' })
    expect(await read('l.txt')).toBe('zero\none\none and a half\ntwo')
    const bad = await run({ command: 'insert', path: 'l.txt', insert_line: 9, new_str: 'x' })
    expect(bad.output).toMatch(
      /Invalid `insert_line` parameter: 9\. It should be within the range of lines of the file: \[0, 4\]/,
    )
  })

  it('undoes edits one by one, back to before the file existed', async () => {
    context = await makeToolContext()
    await run({ command: 'create', path: 'u.txt', file_text: 'v1' })
    await run({ command: 'str_replace', path: 'u.txt', old_str: 'v1', new_str: 'v2' })
    await run({ command: 'insert', path: 'u.txt', insert_line: 1, new_str: 'v3' })
    expect(await read('u.txt')).toBe('v2\nv3')

    expect((await run({ command: 'undo_edit', path: 'u.txt' })).output).toMatch(
      /^Last edit to u.txt undone successfully/,
    )
    expect(await read('u.txt')).toBe('v2')
    expect(context.events.at(-1)).toEqual({
      type: 'file_edit',
      content: { path: 'u.txt', content: 'v2', total_lines: 1 },
    })
    await run({ command: 'undo_edit', path: 'u.txt' })
    expect(await read('u.txt')).toBe('v1')
    await run({ command: 'undo_edit', path: 'u.txt' })
    expect(existsSync(path.join(context.workspaceDir, 'u.txt'))).toBe(false)
    await writeFile(path.join(context.workspaceDir, 'u.txt'), 'by hand')
    const nothing = await run({ command: 'undo_edit', path: 'u.txt' })
    expect(nothing).toEqual({ output: 'Error: No edit history found for u.txt.', isError: true })
  })

  it('maps absolute paths inside the workspace and /workspace/... paths to the workspace', async () => {
    context = await makeToolContext()
    await run({ command: 'create', path: `${context.workspaceDir}/abs.txt`, file_text: 'a' })
    await run({ command: 'create', path: '/workspace/container.txt', file_text: 'b' })
    await run({ command: 'create', path: `/var/data/workspace/${context.sessionId}/old-host.txt`, file_text: 'c' })
    expect([await read('abs.txt'), await read('container.txt'), await read('old-host.txt')]).toEqual(['a', 'b', 'c'])
    expect(context.events.map((e) => (e.content as { path: string }).path)).toEqual([
      'abs.txt',
      'container.txt',
      'old-host.txt',
    ])
  })

  it('refuses paths outside the workspace: .., absolute paths and symlinks leading out', async () => {
    context = await makeToolContext()
    await mkdir(context.outside, { recursive: true })
    await writeFile(path.join(context.outside, 'secret.txt'), 'secret')
    await symlink(context.outside, path.join(context.workspaceDir, 'link-out'))

    const attempts = [
      { command: 'view', path: '../x' },
      { command: 'view', path: '/etc/passwd' },
      { command: 'view', path: 'link-out/secret.txt' },
      { command: 'create', path: 'link-out/new.txt', file_text: 'x' },
      { command: 'create', path: `${context.outside}/new.txt`, file_text: 'x' },
      { command: 'str_replace', path: 'link-out/secret.txt', old_str: 'secret', new_str: 'gone' },
    ]
    for (const attempt of attempts) {
      const result = await run(attempt)
      expect(result.isError, JSON.stringify(attempt)).toBe(true)
      expect(result.output, JSON.stringify(attempt)).toMatch(/outside the workspace|must not contain '\.\.'/)
      expect(result.output).not.toContain('secret\n')
    }
    expect(await readdir(context.outside)).toEqual(['secret.txt'])
    expect(await readFile(path.join(context.outside, 'secret.txt'), 'utf8')).toBe('secret')
    expect(context.events).toEqual([])
  })

  it('reports a full workspace as an error the model can read', async () => {
    context = await makeToolContext({ quotaBytes: 1000 })
    const result = await run({ command: 'create', path: 'big.txt', file_text: 'x'.repeat(5000) })
    expect(result.isError).toBe(true)
    expect(result.output).toMatch(/^Error: The workspace of session .* is full/)
    expect(existsSync(path.join(context.workspaceDir, 'big.txt'))).toBe(false)
  })
})

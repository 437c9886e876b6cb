import { existsSync } from 'node:fs'
import { chmod, lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runTool } from '../../src/tools/run-tool.js'
import { createStrReplaceEditorTool, MAX_EDIT_BYTES } from '../../src/tools/str-replace-editor.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'

// Where berth's str_replace_editor follows the reference system's editor (both were run on the same calls),
// and where it deliberately does better.

const editor = createStrReplaceEditorTool()
let context: FakeToolContext
afterEach(async () => {
  await context?.resources.dispose()
})

const run = (input: Record<string, unknown>) => runTool(editor, input, context)
const abs = (rel: string) => path.join(context.workspaceDir, rel)
const bytes = (rel: string) => readFile(abs(rel), 'latin1')
const put = async (rel: string, content: string | Buffer) => {
  await mkdir(path.dirname(abs(rel)), { recursive: true })
  await writeFile(abs(rel), content)
}

describe('str_replace_editor line endings', () => {
  it('matches a multi-line old_str written with \\n in a CRLF file and writes the replacement with CRLF', async () => {
    context = await makeToolContext()
    await put('win.txt', 'alpha\r\nbeta\r\ngamma\r\n')
    const result = await run({ command: 'str_replace', path: 'win.txt', old_str: 'alpha\nbeta', new_str: 'A\nB1\nB2' })
    expect(result.isError).toBeUndefined()
    expect(await bytes('win.txt')).toBe('A\r\nB1\r\nB2\r\ngamma\r\n')
    expect(result.output).toContain('     1\tA\n     2\tB1\n     3\tB2\n     4\tgamma\n')
    expect(result.output).not.toContain('\r')
    expect(context.events.at(-1)).toEqual({
      type: 'file_edit',
      content: { path: 'win.txt', content: 'A\nB1\nB2\ngamma\n', total_lines: 4 },
    })
  })

  it('views a CRLF file, whole and by range, without stray \\r', async () => {
    context = await makeToolContext()
    await put('win.txt', 'one\r\ntwo\r\nthree')
    expect((await run({ command: 'view', path: 'win.txt' })).output).toBe(
      "Here's the result of running `cat -n` on win.txt:\n     1\tone\n     2\ttwo\n     3\tthree\nTotal lines in file: 3\n",
    )
    expect((await run({ command: 'view', path: 'win.txt', view_range: [2, 3] })).output).toBe(
      "Here's the result of running `cat -n` on win.txt:\n     2\ttwo\n     3\tthree\nTotal lines in file: 3\n",
    )
  })

  it('inserts into a CRLF file with CRLF, at the top, in the middle and after the last line', async () => {
    context = await makeToolContext()
    await put('win.txt', 'one\r\ntwo')
    await run({ command: 'insert', path: 'win.txt', insert_line: 0, new_str: 'zero' })
    await run({ command: 'insert', path: 'win.txt', insert_line: 2, new_str: 'one and\na half' })
    const last = await run({ command: 'insert', path: 'win.txt', insert_line: 5, new_str: 'end' })
    expect(await bytes('win.txt')).toBe('zero\r\none\r\none and\r\na half\r\ntwo\r\nend')
    expect(last.output).toBe(
      "The file win.txt has been edited. Here's the result of running `cat -n` on a snippet of the edited file:\n" +
        '     2\tone\n     3\tone and\n     4\ta half\n     5\ttwo\n     6\tend\nTotal lines in file: 6\n' +
        'Review the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.',
    )
  })

  it('keeps each untouched break of a mixed file as it was; new breaks take the most common ending', async () => {
    context = await makeToolContext()
    // Three CRLF, one LF (after "c"), one lone CR (after "d").
    await put('mixed.txt', 'a\r\nb\r\nc\nd\re\r\n')
    const result = await run({ command: 'str_replace', path: 'mixed.txt', old_str: 'c', new_str: 'c1\nc2' })
    expect(result.isError).toBeUndefined()
    expect(await bytes('mixed.txt')).toBe('a\r\nb\r\nc1\r\nc2\nd\re\r\n')
    // A break inside the replaced text is replaced too: the LF between "c" and "d" goes, the new one is CRLF.
    await run({ command: 'str_replace', path: 'mixed.txt', old_str: 'c2\nd', new_str: 'c2\nD' })
    expect(await bytes('mixed.txt')).toBe('a\r\nb\r\nc1\r\nc2\r\nD\re\r\n')
  })

  it('reads a file with lone CR breaks as lines, as the reference does, and writes CR back', async () => {
    context = await makeToolContext()
    await put('mac.txt', 'a\rb\rc')
    expect((await run({ command: 'view', path: 'mac.txt' })).output).toContain('     1\ta\n     2\tb\n     3\tc\n')
    await run({ command: 'str_replace', path: 'mac.txt', old_str: 'b\nc', new_str: 'B\nC' })
    expect(await bytes('mac.txt')).toBe('a\rB\rC')
  })

  it('matches an old_str written with \\r\\n in an LF file and writes new_str with the file’s LF', async () => {
    context = await makeToolContext()
    await put('unix.txt', 'one\ntwo\nthree\n')
    await run({ command: 'str_replace', path: 'unix.txt', old_str: 'one\r\ntwo', new_str: '1\r\n2' })
    expect(await bytes('unix.txt')).toBe('1\n2\nthree\n')
  })

  it('undoes an edit of a CRLF file back to its exact bytes', async () => {
    context = await makeToolContext()
    await put('win.txt', 'x\r\ny\r\n')
    await run({ command: 'str_replace', path: 'win.txt', old_str: 'x\ny', new_str: 'z' })
    expect(await bytes('win.txt')).toBe('z\r\n')
    const undone = await run({ command: 'undo_edit', path: 'win.txt' })
    expect(await bytes('win.txt')).toBe('x\r\ny\r\n')
    expect(undone.output).toContain('     1\tx\n     2\ty\n     3\t\n')
  })

  it('keeps a UTF-8 byte order mark', async () => {
    context = await makeToolContext()
    await put('bom.txt', Buffer.from('\ufeffhead\r\nbody\r\n', 'utf8'))
    await run({ command: 'str_replace', path: 'bom.txt', old_str: 'head\nbody', new_str: 'H\nB' })
    expect((await readFile(abs('bom.txt'))).toString('hex')).toBe(Buffer.from('\ufeffH\r\nB\r\n').toString('hex'))
  })
})

describe('str_replace_editor symlinks', () => {
  it('str_replace, insert and undo write through a link to a file inside the workspace; the link stays', async () => {
    context = await makeToolContext()
    await put('notes/2024.md', 'hello\nworld\n')
    await symlink('notes/2024.md', abs('current.md'))
    const linkBefore = await lstat(abs('current.md'))
    const targetBefore = await stat(abs('notes/2024.md'))

    const replaced = await run({ command: 'str_replace', path: 'current.md', old_str: 'hello', new_str: 'HELLO' })
    expect(replaced.isError).toBeUndefined()
    expect(await bytes('notes/2024.md')).toBe('HELLO\nworld\n')
    // Replaced by a rename (the temp file is a new inode while the old one still exists), not rewritten in place.
    expect((await stat(abs('notes/2024.md'))).ino).not.toBe(targetBefore.ino)
    await run({ command: 'insert', path: 'current.md', insert_line: 2, new_str: 'more' })
    expect(await bytes('notes/2024.md')).toBe('HELLO\nworld\nmore\n')
    await run({ command: 'undo_edit', path: 'current.md' })
    expect(await bytes('notes/2024.md')).toBe('HELLO\nworld\n')

    const linkAfter = await lstat(abs('current.md'))
    expect(linkAfter.isSymbolicLink()).toBe(true)
    expect(linkAfter.ino).toBe(linkBefore.ino)
    expect(await readlink(abs('current.md'))).toBe('notes/2024.md')
    // No temp file left beside the link or the target.
    expect((await readdir(abs('notes'))).sort()).toEqual(['2024.md'])
    expect((await readdir(context.workspaceDir)).filter((n) => n.startsWith('.'))).toEqual([])
    expect(context.events.map((e) => (e.content as { path: string }).path)).toEqual([
      'current.md',
      'current.md',
      'current.md',
    ])
  })

  it('writes its temp file beside the target, not beside the link (the link’s folder is not touched)', async () => {
    context = await makeToolContext()
    await put('notes/today.md', 'draft\n')
    await mkdir(abs('links'))
    await symlink('../notes/today.md', abs('links/today.md'))
    const linksBefore = (await stat(abs('links'))).mtimeMs
    const notesBefore = (await stat(abs('notes'))).mtimeMs
    await new Promise((resolve) => setTimeout(resolve, 20))
    await run({ command: 'str_replace', path: 'links/today.md', old_str: 'draft', new_str: 'final' })
    expect(await bytes('notes/today.md')).toBe('final\n')
    // Creating (and renaming away) a temp file in a folder changes the folder's mtime.
    expect((await stat(abs('links'))).mtimeMs).toBe(linksBefore)
    expect((await stat(abs('notes'))).mtimeMs).toBeGreaterThan(notesBefore)
  })

  it('follows a chain of links and a linked folder to the final file', async () => {
    context = await makeToolContext()
    await put('real/t.txt', 'a\n')
    await symlink('real', abs('dirlink'))
    await symlink('dirlink/t.txt', abs('hop1'))
    await symlink('hop1', abs('hop2'))
    await run({ command: 'str_replace', path: 'hop2', old_str: 'a', new_str: 'b' })
    expect(await bytes('real/t.txt')).toBe('b\n')
    expect((await lstat(abs('hop2'))).isSymbolicLink()).toBe(true)
    expect((await lstat(abs('hop1'))).isSymbolicLink()).toBe(true)
  })

  it('still refuses a link to a file outside the workspace, for every command', async () => {
    context = await makeToolContext()
    await mkdir(context.outside, { recursive: true })
    await writeFile(path.join(context.outside, 'secret.txt'), 'secret\n')
    await symlink(path.join(context.outside, 'secret.txt'), abs('out.txt'))
    for (const attempt of [
      { command: 'str_replace', path: 'out.txt', old_str: 'secret', new_str: 'gone' },
      { command: 'insert', path: 'out.txt', insert_line: 0, new_str: 'x' },
      { command: 'create', path: 'out.txt', file_text: 'x' },
      { command: 'view', path: 'out.txt' },
    ]) {
      const result = await run(attempt)
      expect(result.isError, attempt.command).toBe(true)
      expect(result.output, attempt.command).toMatch(/outside the workspace/)
    }
    expect(await readFile(path.join(context.outside, 'secret.txt'), 'utf8')).toBe('secret\n')
    expect((await lstat(abs('out.txt'))).isSymbolicLink()).toBe(true)
  })

  it('names a dangling link and where it points, and creates nothing', async () => {
    context = await makeToolContext()
    await symlink('drafts/missing.md', abs('dangling.md'))
    for (const attempt of [
      { command: 'view', path: 'dangling.md' },
      { command: 'str_replace', path: 'dangling.md', old_str: 'a', new_str: 'b' },
      { command: 'create', path: 'dangling.md', file_text: 'made' },
    ]) {
      const result = await run(attempt)
      expect(result, attempt.command).toEqual({
        output:
          'Error: dangling.md is a symbolic link to drafts/missing.md, which does not exist. ' +
          'Create the file it points to, or remove the link and write a regular file.',
        isError: true,
      })
    }
    expect((await lstat(abs('dangling.md'))).isSymbolicLink()).toBe(true)
    expect(existsSync(abs('drafts'))).toBe(false)
    expect(context.events).toEqual([])
  })

  it('keeps the permission bits of the edited file (a script stays executable)', async () => {
    context = await makeToolContext()
    await put('run.sh', '#!/bin/sh\necho hi\n')
    await chmod(abs('run.sh'), 0o770)
    await run({ command: 'str_replace', path: 'run.sh', old_str: 'hi', new_str: 'there' })
    expect(await bytes('run.sh')).toBe('#!/bin/sh\necho there\n')
    expect((await stat(abs('run.sh'))).mode & 0o7777).toBe(0o770)
  })
})

describe('str_replace_editor large files', () => {
  const MiB = 1024 * 1024

  it('edits a 10 MiB file (over the old 2 MiB limit) byte-exact, without a file_edit event that size', async () => {
    context = await makeToolContext()
    const line = `${'x'.repeat(99)}\n`
    const body = line.repeat(Math.floor((5 * MiB) / line.length))
    await put('big.log', `${body}needle\n${body}`)
    const result = await run({ command: 'str_replace', path: 'big.log', old_str: 'needle', new_str: 'found' })
    expect(result.isError).toBeUndefined()
    const after = await readFile(abs('big.log'), 'utf8')
    expect(after.length).toBe(body.length * 2 + 'found\n'.length)
    expect(after === `${body}found\n${body}`).toBe(true)
    expect(result.output).toContain(`${body.length / line.length + 1}\tfound\n`)
    expect(context.events).toEqual([])
  })

  it('refuses a file over 16 MiB with an error naming the limit, and leaves it alone', async () => {
    context = await makeToolContext()
    const content = `${'y'.repeat(MAX_EDIT_BYTES)}\n`
    await put('huge.txt', content)
    const result = await run({ command: 'str_replace', path: 'huge.txt', old_str: 'yy\n', new_str: 'z' })
    expect(result.isError).toBe(true)
    expect(result.output).toMatch(
      /^Error: The file huge.txt is 16777217 bytes, more than the 16 MiB \(16777216 bytes\) this tool edits\./,
    )
    expect((await stat(abs('huge.txt'))).size).toBe(MAX_EDIT_BYTES + 1)
  })

  it('refuses an edit that would take a file over 16 MiB, and changes nothing', async () => {
    context = await makeToolContext()
    await put('near.txt', `${'y'.repeat(MAX_EDIT_BYTES - 10)}\nend`)
    const result = await run({ command: 'str_replace', path: 'near.txt', old_str: 'end', new_str: 'e'.repeat(100) })
    expect(result.isError).toBe(true)
    expect(result.output).toMatch(/would be 16777307 bytes, more than the 16 MiB \(16777216 bytes\) this tool writes/)
    expect((await stat(abs('near.txt'))).size).toBe(MAX_EDIT_BYTES - 10 + 4)
    expect((await readdir(context.workspaceDir)).filter((n) => n.startsWith('.'))).toEqual([])
  })
})

describe('str_replace_editor view of a long file', () => {
  it('stops at the output budget with a note naming the lines left out, instead of a cut mid-output', async () => {
    context = await makeToolContext()
    await put('long.txt', Array.from({ length: 5000 }, (_, i) => `line ${i + 1} ${'-'.repeat(40)}`).join('\r\n'))
    const result = await run({ command: 'view', path: 'long.txt' })
    expect(result.output.length).toBeLessThan(30_000)
    expect(result.output).not.toContain('characters omitted')
    expect(result.output).toMatch(
      /^Here's the result of running `cat -n` on long.txt:\n {5}1\tline 1 -+\n {5}2\tline 2 /,
    )
    const shown = /\n +(\d+)\tline \d+ -+\n\[\.\.\. lines (\d+) to 5000 are not shown/.exec(result.output)
    expect(shown).not.toBeNull()
    expect(Number(shown?.[2])).toBe(Number(shown?.[1]) + 1)
    expect(result.output).toContain(`View them with \`view_range\` (e.g. [${shown?.[2]}, ${Number(shown?.[2]) + 199}])`)
    expect(result.output.endsWith('Total lines in file: 5000\n')).toBe(true)
    const range = await run({ command: 'view', path: 'long.txt', view_range: [4990, -1] })
    expect(range.output).toContain('  4990\tline 4990 ')
    expect(range.output).toContain('  5000\tline 5000 ')
  })

  it('cuts a single line longer than the budget and says how long it goes on', async () => {
    context = await makeToolContext()
    await put('min.js', `${'x'.repeat(100_000)}\nsecond`)
    const result = await run({ command: 'view', path: 'min.js' })
    expect(result.output).toMatch(/ {5}1\tx+\n\[\.\.\. line 1 goes on for \d+ more characters;/)
    expect(result.output).toContain('[... lines 2 to 2 are not shown')
    expect(result.output.length).toBeLessThan(30_000)
  })
})

describe('str_replace_editor small differences from the reference', () => {
  it('shows the whole file for an empty view_range, as the reference does', async () => {
    context = await makeToolContext()
    await put('a.txt', 'one\ntwo')
    expect(await run({ command: 'view', path: 'a.txt', view_range: [] })).toEqual({
      output: "Here's the result of running `cat -n` on a.txt:\n     1\tone\n     2\ttwo\nTotal lines in file: 2\n",
    })
  })

  it('names the starting lines of a repeated multi-line old_str (the reference finds none)', async () => {
    context = await makeToolContext()
    await put('r.py', 'if x:\n    go()\nif x:\n    go()\n')
    const result = await run({ command: 'str_replace', path: 'r.py', old_str: 'if x:\n    go()', new_str: '' })
    expect(result.output).toMatch(/Multiple occurrences \(2\) of old_str[\s\S]* in lines \[1, 3\]\. Please ensure/)
  })

  it('lists at most 100 lines of a repeated old_str, with the full count (the reference lists every line)', async () => {
    context = await makeToolContext()
    await put('x.txt', 'x x\n'.repeat(300))
    const result = await run({ command: 'str_replace', path: 'x.txt', old_str: 'x', new_str: 'y' })
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1).join(', ')
    expect(result.output).toContain(`Multiple occurrences (600) of old_str`)
    expect(result.output).toContain(`in lines [${hundred}, and more]. Please ensure it is unique`)
    expect(await bytes('x.txt')).toBe('x x\n'.repeat(300))
  })

  it('deletes with an empty new_str, and undo after create removes the file (the reference left it)', async () => {
    context = await makeToolContext()
    await run({ command: 'create', path: 'c.txt', file_text: 'keep\ndrop\n' })
    await run({ command: 'str_replace', path: 'c.txt', old_str: 'drop\n', new_str: '' })
    expect(await bytes('c.txt')).toBe('keep\n')
    await run({ command: 'undo_edit', path: 'c.txt' })
    await run({ command: 'undo_edit', path: 'c.txt' })
    expect(existsSync(abs('c.txt'))).toBe(false)
  })
})

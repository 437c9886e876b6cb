import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ErrorCode } from '../../src/core/errors.js'
import { isBerthError } from '../../src/core/errors.js'
import { isInside, isValidSessionId, normalizeRelativePath, resolveInside } from '../../src/workspace/containment.js'

function expectCode(fn: () => unknown, code: ErrorCode, status: number): void {
  try {
    fn()
  } catch (err) {
    expect(isBerthError(err, code), `expected ${code}, got ${String(err)}`).toBe(true)
    expect((err as { status: number }).status).toBe(status)
    return
  }
  throw new Error(`expected ${code}, nothing was thrown`)
}

async function expectRejects(promise: Promise<unknown>, code: ErrorCode, status: number): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(err, `expected ${code}, nothing was thrown`).not.toBeNull()
  expect(isBerthError(err, code), `expected ${code}, got ${String(err)}`).toBe(true)
  expect((err as { status: number }).status).toBe(status)
}

describe('normalizeRelativePath', () => {
  it.each([
    ['a.txt', 'a.txt'],
    ['uploaded_files/a.txt', 'uploaded_files/a.txt'],
    ['a//b///c', 'a/b/c'],
    ['./a/./b/.', 'a/b'],
    ['a/b/', 'a/b'],
    ['a\\b\\c.txt', 'a/b/c.txt'],
    ['...', '...'],
    ['..foo/bar..', '..foo/bar..'],
    ['.hidden', '.hidden'],
    ['é/日本語/🎉.txt', 'é/日本語/🎉.txt'],
  ])('cleans %j to %j', (input, expected) => {
    expect(normalizeRelativePath(input)).toBe(expected)
  })

  it('does not URL-decode: encoded dots stay a literal name', () => {
    expect(normalizeRelativePath('%2e%2e%2f')).toBe('%2e%2e%2f')
    expect(normalizeRelativePath('%2e%2e/%2e%2e/etc/passwd')).toBe('%2e%2e/%2e%2e/etc/passwd')
    expect(normalizeRelativePath('..%2fetc')).toBe('..%2fetc')
    expect(normalizeRelativePath('%00')).toBe('%00')
  })

  it('refuses the root unless allowed', () => {
    for (const input of ['', '.', './', './.']) {
      expectCode(() => normalizeRelativePath(input), 'PATH_INVALID', 400)
    }
    expect(normalizeRelativePath('', { allowRoot: true })).toBe('')
    expect(normalizeRelativePath('.', { allowRoot: true })).toBe('')
    expect(normalizeRelativePath('./.', { allowRoot: true })).toBe('')
  })

  it.each([
    '/',
    '/etc/passwd',
    '//etc',
    '\\etc\\passwd',
    '\\\\server\\share\\x',
    '//server/share',
    'C:\\Windows',
    'c:/x',
    'C:x',
    'Z:',
  ])('refuses the absolute path %j, even with allowRoot', (input) => {
    expectCode(() => normalizeRelativePath(input), 'PATH_INVALID', 400)
    expectCode(() => normalizeRelativePath(input, { allowRoot: true }), 'PATH_INVALID', 400)
  })

  it.each([
    '..',
    '../x',
    '../../etc/passwd',
    'a/../b',
    'a/b/../../c',
    'a/..',
    'a/b/..',
    '..\\..\\etc',
    'a\\..\\b',
    './..',
  ])("refuses '..' in %j, even when it would stay inside", (input) => {
    expectCode(() => normalizeRelativePath(input, { allowRoot: true }), 'PATH_INVALID', 400)
  })

  it.each(['a\0b', 'a.txt\0.png', '\0', 'a/\0/b'])('refuses the NUL byte in %j', (input) => {
    expectCode(() => normalizeRelativePath(input), 'PATH_INVALID', 400)
  })

  it.each(['a\nb', 'a\rb', 'tab\there', 'esc\u001b[31m', 'del\u007f', 'c1\u0085'])(
    'refuses the control character in %j',
    (input) => {
      expectCode(() => normalizeRelativePath(input), 'PATH_INVALID', 400)
    },
  )

  it('refuses absurdly long paths and non-strings', () => {
    expectCode(() => normalizeRelativePath('a/'.repeat(3000)), 'PATH_INVALID', 400)
    expectCode(() => normalizeRelativePath(42 as unknown as string), 'PATH_INVALID', 400)
  })
})

describe('isValidSessionId', () => {
  it.each([
    '3f2b8c9e-1d4a-4c6b-9e8f-0a1b2c3d4e5f',
    '3F2B8C9E-1D4A-4C6B-9E8F-0A1B2C3D4E5F',
    '00000000-0000-0000-0000-000000000000',
    'task_17',
    'c61d22de-5f6c-4958-a7f6-5e9707bd3466',
    'A',
    'a'.repeat(128),
  ])('accepts %j', (id) => {
    expect(isValidSessionId(id)).toBe(true)
  })

  it.each(['', '.', '..', 'a.b', 'a/b', 'a\\b', '/abs', '-a', '_a', 'a b', 'é', 'a\0', 'a'.repeat(129), '../etc'])(
    'rejects %j',
    (id) => {
      expect(isValidSessionId(id)).toBe(false)
    },
  )
})

describe('isInside', () => {
  it('needs a separator, unlike a bare prefix check', () => {
    expect(isInside('/data/ws', '/data/ws')).toBe(true)
    expect(isInside('/data/ws', '/data/ws/a')).toBe(true)
    expect(isInside('/data/ws', '/data/ws/..foo')).toBe(true)
    expect(isInside('/data/ws', '/data/ws-evil/a')).toBe(false)
    expect(isInside('/data/ws', '/data')).toBe(false)
    expect(isInside('/data/ws', '/etc/passwd')).toBe(false)
  })
})

describe('resolveInside', () => {
  let tmp: string
  let base: string
  let outside: string

  beforeEach(async () => {
    tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), 'berth-containment-')))
    base = path.join(tmp, 'ws')
    outside = path.join(tmp, 'outside')
    await mkdir(path.join(base, 'sub'), { recursive: true })
    await mkdir(outside)
    await writeFile(path.join(outside, 'secret.txt'), 'secret')
    await writeFile(path.join(base, 'sub', 'inner.txt'), 'inner')
  })

  afterEach(async () => {
    await rm(tmp, { recursive: true, force: true })
  })

  it('returns the absolute path under base, existing or not', async () => {
    expect(await resolveInside(base, 'sub/inner.txt')).toBe(path.join(base, 'sub/inner.txt'))
    expect(await resolveInside(base, 'new/deeper/file.txt')).toBe(path.join(base, 'new/deeper/file.txt'))
    expect(await resolveInside(base, 'sub\\inner.txt')).toBe(path.join(base, 'sub/inner.txt'))
  })

  it('returns the base itself only with allowRoot', async () => {
    expect(await resolveInside(base, '', { allowRoot: true })).toBe(base)
    await expectRejects(resolveInside(base, ''), 'PATH_INVALID', 400)
  })

  it('keeps an encoded traversal as a literal name inside', async () => {
    const resolved = await resolveInside(base, '%2e%2e%2fsecret.txt')
    expect(resolved).toBe(path.join(base, '%2e%2e%2fsecret.txt'))
    expect(path.dirname(resolved)).toBe(base)
  })

  it('refuses lexical escapes before touching the disk', async () => {
    await expectRejects(resolveInside(base, '../outside/secret.txt'), 'PATH_INVALID', 400)
    await expectRejects(resolveInside(base, 'sub/../../outside'), 'PATH_INVALID', 400)
    await expectRejects(resolveInside(base, '..\\..\\etc\\passwd'), 'PATH_INVALID', 400)
    await expectRejects(resolveInside(base, path.join(outside, 'secret.txt')), 'PATH_INVALID', 400)
    await expectRejects(resolveInside(base, 'C:\\Windows\\win.ini'), 'PATH_INVALID', 400)
    await expectRejects(resolveInside(base, 'sub/inner.txt\0.png'), 'PATH_INVALID', 400)
  })

  it('refuses a symlink inside that points to a file outside', async () => {
    await symlink(path.join(outside, 'secret.txt'), path.join(base, 'leak.txt'))
    await expectRejects(resolveInside(base, 'leak.txt'), 'PATH_OUTSIDE_WORKSPACE', 403)
  })

  it('refuses a symlink inside that points to a folder outside, and every path through it', async () => {
    await symlink(outside, path.join(base, 'out'))
    await expectRejects(resolveInside(base, 'out'), 'PATH_OUTSIDE_WORKSPACE', 403)
    await expectRejects(resolveInside(base, 'out/secret.txt'), 'PATH_OUTSIDE_WORKSPACE', 403)
    await expectRejects(resolveInside(base, 'out/not-yet.txt'), 'PATH_OUTSIDE_WORKSPACE', 403)
    await expectRejects(resolveInside(base, 'out/new/dir/not-yet.txt'), 'PATH_OUTSIDE_WORKSPACE', 403)
  })

  it('refuses relative symlink targets that climb out', async () => {
    await symlink('../outside', path.join(base, 'rel-out'))
    await symlink('../../outside/secret.txt', path.join(base, 'sub', 'rel-file'))
    await symlink('..', path.join(base, 'parent'))
    await expectRejects(resolveInside(base, 'rel-out/secret.txt'), 'PATH_OUTSIDE_WORKSPACE', 403)
    await expectRejects(resolveInside(base, 'sub/rel-file'), 'PATH_OUTSIDE_WORKSPACE', 403)
    await expectRejects(resolveInside(base, 'parent/outside/secret.txt'), 'PATH_OUTSIDE_WORKSPACE', 403)
  })

  it('refuses a dangling symlink whose target would be created outside', async () => {
    await symlink(path.join(outside, 'created-later.txt'), path.join(base, 'dangling'))
    await symlink(path.join(tmp, 'missing-dir', 'x.txt'), path.join(base, 'dangling-dir'))
    await expectRejects(resolveInside(base, 'dangling'), 'PATH_OUTSIDE_WORKSPACE', 403)
    await expectRejects(resolveInside(base, 'dangling-dir'), 'PATH_OUTSIDE_WORKSPACE', 403)
  })

  it('refuses a chain of symlinks that ends outside', async () => {
    await symlink(outside, path.join(base, 'hop2'))
    await symlink('hop2', path.join(base, 'hop1'))
    await expectRejects(resolveInside(base, 'hop1/secret.txt'), 'PATH_OUTSIDE_WORKSPACE', 403)
  })

  it('refuses a symlink into a sibling that only shares the prefix', async () => {
    await mkdir(path.join(tmp, 'ws-evil'))
    await symlink(path.join(tmp, 'ws-evil'), path.join(base, 'evil'))
    await expectRejects(resolveInside(base, 'evil/x'), 'PATH_OUTSIDE_WORKSPACE', 403)
  })

  it('refuses a link target that climbs through a missing folder', async () => {
    await symlink('missing/../../outside/secret.txt', path.join(base, 'tricky'))
    await expectRejects(resolveInside(base, 'tricky'), 'PATH_OUTSIDE_WORKSPACE', 403)
  })

  it('refuses a symlink loop', async () => {
    await symlink('loop-b', path.join(base, 'loop-a'))
    await symlink('loop-a', path.join(base, 'loop-b'))
    await expectRejects(resolveInside(base, 'loop-a/x'), 'PATH_INVALID', 400)
  })

  it('allows symlinks that point inside, relative or absolute, to files and folders', async () => {
    await symlink('sub/inner.txt', path.join(base, 'rel-file'))
    await symlink(path.join(base, 'sub'), path.join(base, 'abs-dir'))
    await symlink('.', path.join(base, 'self'))
    await symlink('../ws/sub', path.join(base, 'out-and-back'))
    await symlink(path.join(base, 'sub', 'later.txt'), path.join(base, 'dangling-inside'))
    expect(await resolveInside(base, 'rel-file')).toBe(path.join(base, 'rel-file'))
    expect(await resolveInside(base, 'abs-dir/inner.txt')).toBe(path.join(base, 'abs-dir/inner.txt'))
    expect(await resolveInside(base, 'abs-dir/new.txt')).toBe(path.join(base, 'abs-dir/new.txt'))
    expect(await resolveInside(base, 'self/self/sub')).toBe(path.join(base, 'self/self/sub'))
    expect(await resolveInside(base, 'out-and-back/inner.txt')).toBe(path.join(base, 'out-and-back/inner.txt'))
    expect(await resolveInside(base, 'dangling-inside')).toBe(path.join(base, 'dangling-inside'))
  })

  it('accepts a base that is itself a symlink, and returns paths under the link', async () => {
    const linkedBase = path.join(tmp, 'linked-ws')
    await symlink(base, linkedBase)
    await symlink(path.join(base, 'sub'), path.join(base, 'via-real'))
    await symlink(path.join(linkedBase, 'sub'), path.join(base, 'via-link'))
    expect(await resolveInside(linkedBase, 'sub/inner.txt')).toBe(path.join(linkedBase, 'sub/inner.txt'))
    expect(await resolveInside(linkedBase, 'via-real/inner.txt')).toBe(path.join(linkedBase, 'via-real/inner.txt'))
    expect(await resolveInside(linkedBase, 'via-link/inner.txt')).toBe(path.join(linkedBase, 'via-link/inner.txt'))
    await symlink(outside, path.join(base, 'out'))
    await expectRejects(resolveInside(linkedBase, 'out/secret.txt'), 'PATH_OUTSIDE_WORKSPACE', 403)
  })

  it('round-trips unicode names', async () => {
    const names = ['é.txt', '日本語/ファイル.md', '🎉/👨‍👩‍👧.png', 'e\u0301-decomposed.txt']
    for (const name of names) {
      expect(await resolveInside(base, name)).toBe(path.join(base, name))
    }
  })

  it('reports a missing base as WORKSPACE_NOT_FOUND and needs an absolute base', async () => {
    await expectRejects(resolveInside(path.join(tmp, 'nope'), 'a.txt'), 'WORKSPACE_NOT_FOUND', 404)
    await expect(resolveInside('relative/base', 'a.txt')).rejects.toThrow(TypeError)
  })
})

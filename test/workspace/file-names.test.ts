import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { freeFileName, sanitizeFileName } from '../../src/workspace/file-names.js'

const bytes = (s: string) => Buffer.byteLength(s, 'utf8')

describe('sanitizeFileName', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['/abs/path/to/x.txt', 'x.txt'],
    ['C:\\Users\\me\\doc.pdf', 'doc.pdf'],
    ['..\\..\\win.ini', 'win.ini'],
    ['dir/', 'dir'],
    ['.env', '_env'],
    ['...hidden', '_hidden'],
    ['..', '_'],
    ['.', '_'],
    ['', 'file'],
    ['///', 'file'],
    ['  ', 'file'],
    ['\0', 'file'],
    ['a\0b.txt', 'ab.txt'],
    ['line\nbreak\r.txt', 'linebreak.txt'],
    ['esc\u001b[31m.txt', 'esc[31m.txt'],
    ['evil\u202Etxt.exe', 'eviltxt.exe'],
    ['  spaced name.txt  ', 'spaced name.txt'],
    ['%2e%2e%2fx', '%2e%2e%2fx'],
  ])('turns %j into %j', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected)
  })

  it.each(['é.txt', 'résumé.pdf', '日本語のファイル.md', '🎉.png', '👨‍👩‍👧 family.jpg', 'e\u0301 decomposed.txt'])(
    'keeps unicode %j exactly',
    (name) => {
      expect(sanitizeFileName(name)).toBe(name)
    },
  )

  it('trims to 255 bytes, keeping the extension', () => {
    const out = sanitizeFileName(`${'a'.repeat(300)}.pdf`)
    expect(bytes(out)).toBe(255)
    expect(out.endsWith('.pdf')).toBe(true)
  })

  it('never cuts a multi-byte character or an emoji sequence in half', () => {
    const cjk = sanitizeFileName(`${'日'.repeat(120)}.txt`)
    expect(bytes(cjk)).toBeLessThanOrEqual(255)
    expect(cjk).toMatch(/^日+\.txt$/)

    const family = '👨‍👩‍👧'
    const emoji = sanitizeFileName(`${family.repeat(30)}.png`)
    expect(bytes(emoji)).toBeLessThanOrEqual(255)
    expect(
      emoji
        .slice(0, -4)
        .split(family)
        .every((part) => part === ''),
    ).toBe(true)
    expect(emoji.endsWith('.png')).toBe(true)
  })

  it('treats a very long tail as part of the name, not an extension', () => {
    const out = sanitizeFileName(`name.${'x'.repeat(300)}`)
    expect(bytes(out)).toBeLessThanOrEqual(255)
    expect(out.startsWith('name.')).toBe(true)
  })

  it('is idempotent', () => {
    for (const name of ['.env', '../x', `${'日'.repeat(120)}.txt`, 'a\0b', '', '..']) {
      const once = sanitizeFileName(name)
      expect(sanitizeFileName(once)).toBe(once)
    }
  })
})

describe('freeFileName', () => {
  let dir: string

  beforeEach(async () => {
    dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'berth-names-')))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps a free name and counts up on clashes like the reference', async () => {
    expect(await freeFileName(dir, 'a.txt')).toBe('a.txt')
    await writeFile(path.join(dir, 'a.txt'), '')
    expect(await freeFileName(dir, 'a.txt')).toBe('a_1.txt')
    await writeFile(path.join(dir, 'a_1.txt'), '')
    expect(await freeFileName(dir, 'a.txt')).toBe('a_2.txt')
  })

  it('handles names without an extension, double extensions and hidden names', async () => {
    await writeFile(path.join(dir, 'Makefile'), '')
    await writeFile(path.join(dir, 'a.tar.gz'), '')
    await writeFile(path.join(dir, '_env'), '')
    expect(await freeFileName(dir, 'Makefile')).toBe('Makefile_1')
    expect(await freeFileName(dir, 'a.tar.gz')).toBe('a.tar_1.gz')
    expect(await freeFileName(dir, '.env')).toBe('_env_1')
  })

  it('counts folders and dangling symlinks as taken', async () => {
    await mkdir(path.join(dir, 'x.txt'))
    await symlink(path.join(dir, 'nowhere'), path.join(dir, 'y.txt'))
    expect(await freeFileName(dir, 'x.txt')).toBe('x_1.txt')
    expect(await freeFileName(dir, 'y.txt')).toBe('y_1.txt')
  })

  it('sanitises the wanted name first', async () => {
    expect(await freeFileName(dir, '../../etc/passwd')).toBe('passwd')
  })

  it('stays within 255 bytes when the suffix is added to a long name', async () => {
    const long = sanitizeFileName(`${'é'.repeat(200)}.pdf`)
    await writeFile(path.join(dir, long), '')
    const next = await freeFileName(dir, long)
    expect(bytes(next)).toBeLessThanOrEqual(255)
    expect(next).toMatch(/^é+_1\.pdf$/)
    await writeFile(path.join(dir, next), '')
  })

  it('round-trips unicode names', async () => {
    await writeFile(path.join(dir, '日本語.md'), '')
    expect(await freeFileName(dir, '日本語.md')).toBe('日本語_1.md')
    expect(await freeFileName(dir, '🎉.png')).toBe('🎉.png')
  })
})

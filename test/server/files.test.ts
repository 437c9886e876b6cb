import { execFileSync } from 'node:child_process'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readContent } from '../../src/server/files/file-content.js'
import { listTree } from '../../src/server/files/file-tree.js'
import { tempDir } from '../helpers/temp-dir.js'
import { json, postJson, startFileServer } from './file-routes-harness.js'

const SESSION = 'sess-files-1'
const FILES = {
  'index.html': '<h1>hi</h1>',
  'site/app.ts': 'export const x = 1\n',
  'site/css/main.css': 'body{}',
  'site/.env': 'SECRET=1',
  '.hidden/x.txt': 'x',
  'notes/日本語.md': '# 日本語\n',
  'bin/data.bin': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]),
  'bin/latin1.txt': Buffer.from([0x63, 0x61, 0x66, 0xe9]),
}

describe('file routes', () => {
  it('lists the tree: folders first, no dotfiles, languages, sizes, depth for lazy loading', async () => {
    const server = await startFileServer()
    await server.session(SESSION, 'dev-a', FILES)
    const full = await json(await postJson(server, '/api/files/list', { workspace_id: SESSION }, { device: 'dev-a' }))
    expect(full.truncated).toBe(false)
    const names = full.files.map((f: { name: string }) => f.name)
    expect(names).toEqual(['agent_memory', 'bin', 'notes', 'site', 'uploaded_files', 'index.html'])
    const site = full.files.find((f: { name: string }) => f.name === 'site')
    expect(site).toEqual({
      name: 'site',
      type: 'folder',
      path: 'site',
      language: 'plaintext',
      children: [
        {
          name: 'css',
          type: 'folder',
          path: 'site/css',
          language: 'plaintext',
          children: [{ name: 'main.css', type: 'file', path: 'site/css/main.css', language: 'css', size: 6 }],
        },
        { name: 'app.ts', type: 'file', path: 'site/app.ts', language: 'typescript', size: 19 },
      ],
    })

    const lazy = await json(
      await postJson(server, '/api/files/list', { workspace_id: SESSION, path: 'site', depth: 1 }, { device: 'dev-a' }),
    )
    expect(lazy.files).toEqual([
      { name: 'css', type: 'folder', path: 'site/css', language: 'plaintext', children: [], partial: true },
      { name: 'app.ts', type: 'file', path: 'site/app.ts', language: 'typescript', size: 19 },
    ])
    const deep = await postJson(server, '/api/files/list', { workspace_id: SESSION, depth: 11 }, { device: 'dev-a' })
    expect(deep.status).toBe(400)
  })

  it('returns text as utf-8 and binary or non-UTF-8 files as base64, and refuses folders and huge files', async () => {
    const server = await startFileServer()
    const dir = await server.session(SESSION, 'dev-a', FILES)
    const content = (path: string) =>
      postJson(server, '/api/files/content', { workspace_id: SESSION, path }, { device: 'dev-a' })
    expect(await json(await content('notes/日本語.md'))).toEqual({ content: '# 日本語\n', encoding: 'utf-8' })
    expect(await json(await content('bin/data.bin'))).toEqual({ content: 'iVBORwABAgM=', encoding: 'base64' })
    expect((await json(await content('bin/latin1.txt'))).encoding).toBe('base64')
    expect((await content('site')).status).toBe(400)
    expect((await content('missing.txt')).status).toBe(404)
    await writeFile(join(dir, 'huge.log'), Buffer.alloc(5 * 1024 * 1024 + 1, 0x61))
    const huge = await content('huge.log')
    expect(huge.status).toBe(413)
    expect((await json(huge)).message).toMatch(/download it instead/)
  })

  it('downloads a file (POST and GET) with its type and an RFC 5987 file name', async () => {
    const server = await startFileServer()
    await server.session(SESSION, 'dev-a', FILES)
    const post = await postJson(
      server,
      '/api/files/download',
      { workspace_id: SESSION, path: 'notes/日本語.md' },
      { device: 'dev-a' },
    )
    expect(post.status).toBe(200)
    expect(post.headers.get('content-type')).toBe('text/markdown; charset=utf-8')
    expect(post.headers.get('content-disposition')).toBe(
      `attachment; filename="___.md"; filename*=UTF-8''${encodeURIComponent('日本語.md')}`,
    )
    expect(await post.text()).toBe('# 日本語\n')

    const url = `${server.url}/api/files/download?workspace_id=${SESSION}&path=${encodeURIComponent('bin/data.bin')}`
    const get = await fetch(url, { headers: { cookie: 'device_id=dev-a' } })
    expect(get.headers.get('content-type')).toBe('application/octet-stream')
    expect(Buffer.from(await get.arrayBuffer())).toEqual(FILES['bin/data.bin'])
    expect((await fetch(url, { headers: { cookie: 'device_id=dev-b' } })).status).toBe(403)
    const folder = await postJson(
      server,
      '/api/files/download',
      { workspace_id: SESSION, path: 'site' },
      { device: 'dev-a' },
    )
    expect(folder.status).toBe(400)
  })

  it('streams a zip of the workspace or a folder without hidden files and without links leading out', async () => {
    const server = await startFileServer()
    const dir = await server.session(SESSION, 'dev-a', FILES)
    const outside = await tempDir()
    await writeFile(join(outside, 'secret.txt'), 'TOP-SECRET')
    await symlink(join(outside, 'secret.txt'), join(dir, 'site/leak.txt'))
    await symlink(join(dir, 'index.html'), join(dir, 'site/home.html'))
    await mkdir(join(dir, 'empty'))
    const check = async (response: Response, name: string) => {
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('application/zip')
      expect(response.headers.get('content-disposition')).toContain(`filename="${name}"`)
      const zipFile = join(await tempDir(), 'out.zip')
      await writeFile(zipFile, Buffer.from(await response.arrayBuffer()))
      return execFileSync('python3', ['-c', LIST_ZIP, zipFile], { encoding: 'utf8' }).trim().split('\n')
    }
    const whole = await check(
      await postJson(server, '/api/files/download-zip', { workspace_id: SESSION }, { device: 'dev-a' }),
      `${SESSION}.zip`,
    )
    expect(whole).toEqual([
      'agent_memory/ 0',
      'bin/data.bin 8',
      'bin/latin1.txt 4',
      'empty/ 0',
      'index.html 11',
      'notes/日本語.md 12',
      'site/app.ts 19',
      'site/css/main.css 6',
      'site/home.html 11',
      'uploaded_files/ 0',
    ])
    const site = await check(
      await fetch(`${server.url}/api/files/download-zip?workspace_id=${SESSION}&path=site`, {
        headers: { 'x-device-id': 'dev-a' },
      }),
      'site.zip',
    )
    expect(site).toEqual(['app.ts 19', 'css/main.css 6', 'home.html 11'])
  })

  it('lets only the owner device or the token holder read a workspace', async () => {
    const token = 'a-long-enough-server-token'
    const server = await startFileServer({ BERTH_AUTH_TOKEN: token })
    await server.session(SESSION, 'dev-a', FILES)
    const body = { workspace_id: SESSION, path: 'index.html' }
    expect((await postJson(server, '/api/files/content', body, { device: 'dev-a' })).status).toBe(401)
    const denied = await postJson(server, '/api/files/content', body, {
      device: 'dev-b',
      token: 'wrong-token-but-long',
    })
    expect(denied.status).toBe(401)
    const admin = await postJson(server, '/api/files/content', body, { token })
    expect((await json(admin)).content).toBe('<h1>hi</h1>')

    const open = await startFileServer()
    await open.session(SESSION, 'dev-a', FILES)
    const other = await postJson(open, '/api/files/list', { workspace_id: SESSION }, { device: 'dev-b' })
    expect(other.status).toBe(403)
    expect((await postJson(open, '/api/files/list', { workspace_id: SESSION })).status).toBe(403)
    expect(
      (await postJson(open, '/api/files/list', { workspace_id: 'no-such-session' }, { device: 'dev-a' })).status,
    ).toBe(404)
  })

  it('exports listTree and readContent for routes that read through share links', async () => {
    const server = await startFileServer()
    await server.session(SESSION, 'dev-a', FILES)
    const storage = server.context.workspaceStorage
    const tree = await listTree(storage, SESSION, 'notes', 1)
    expect(tree.files.map((f) => f.path)).toEqual(['notes/日本語.md'])
    expect(await readContent(storage, SESSION, 'site/app.ts')).toEqual({
      content: 'export const x = 1\n',
      encoding: 'utf-8',
    })
    await expect(readContent(storage, SESSION, '../x')).rejects.toMatchObject({ code: 'PATH_INVALID' })
  })
})

// Python's zipfile, an independent reader: one "name size" line per entry.
const LIST_ZIP = `
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
for i in sorted(z.infolist(), key=lambda i: i.filename):
    print(i.filename, i.file_size)
`

import { readdir, readFile, stat, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { json, postJson, startFileServer } from './file-routes-harness.js'

const SESSION = '3f2b8c9e-1d4a-4c6b-9e8f-0a1b2c3d4e5f'

function multipart(sessionId: string | null, files: { name: string; content: string | Buffer }[]): FormData {
  const form = new FormData()
  if (sessionId !== null) form.append('session_id', sessionId)
  for (const file of files) form.append('file', new Blob([file.content]), file.name)
  return form
}

async function upload(url: string, form: FormData, device = 'dev-a'): Promise<Response> {
  return fetch(`${url}/api/upload`, { method: 'POST', headers: { 'x-device-id': device }, body: form })
}

describe('POST /api/upload', () => {
  it('saves the reference JSON form: data URL decoded to bytes, plain text as UTF-8, reference response shape', async () => {
    const server = await startFileServer()
    const dir = await server.session(SESSION, 'dev-a')
    const bytes = Buffer.from([0, 1, 2, 250, 255])
    const response = await postJson(
      server,
      '/api/upload',
      {
        session_id: SESSION,
        file: { path: 'bin.dat', content: `data:application/octet-stream;base64,${bytes.toString('base64')}` },
      },
      { device: 'dev-a' },
    )
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({
      message: 'File uploaded successfully',
      file: { path: '/uploaded_files/bin.dat', saved_path: 'uploaded_files/bin.dat' },
    })
    expect(await readFile(join(dir, 'uploaded_files/bin.dat'))).toEqual(bytes)

    const text = await postJson(
      server,
      '/api/upload',
      { session_id: SESSION, file: { path: '/home/me/notes — été.md', content: '# héllo\n' } },
      { device: 'dev-a' },
    )
    expect((await json(text)).file.path).toBe('/uploaded_files/notes — été.md')
    expect(await readFile(join(dir, 'uploaded_files/notes — été.md'), 'utf8')).toBe('# héllo\n')
  })

  it('renames a clash to name_1.ext, name_2.ext, and never writes through a symlink in uploaded_files', async () => {
    const server = await startFileServer()
    const dir = await server.session(SESSION, 'dev-a', { 'uploaded_files/a.txt': 'first' })
    await symlink('/etc/hostname', join(dir, 'uploaded_files/link.txt'))
    const send = (path: string, content: string) =>
      postJson(server, '/api/upload', { session_id: SESSION, file: { path, content } }, { device: 'dev-a' })
    expect((await json(await send('a.txt', 'second'))).file.path).toBe('/uploaded_files/a_1.txt')
    expect((await json(await send('a.txt', 'third'))).file.path).toBe('/uploaded_files/a_2.txt')
    expect((await json(await send('link.txt', 'mine'))).file.path).toBe('/uploaded_files/link_1.txt')
    expect(await readFile(join(dir, 'uploaded_files/a.txt'), 'utf8')).toBe('first')
    expect(await readFile(join(dir, 'uploaded_files/a_2.txt'), 'utf8')).toBe('third')
    expect(await readFile(join(dir, 'uploaded_files/link_1.txt'), 'utf8')).toBe('mine')
  })

  it('streams multipart files with unicode names, several per request, and reports their sizes', async () => {
    const server = await startFileServer()
    const dir = await server.session(SESSION, 'dev-a', { 'uploaded_files/résumé 日本語 🎉.pdf': 'old' })
    const big = Buffer.alloc(3 * 1024 * 1024, 7)
    const response = await upload(
      server.url,
      multipart(SESSION, [
        { name: 'résumé 日本語 🎉.pdf', content: 'new' },
        { name: 'big.bin', content: big },
      ]),
    )
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({
      message: 'File uploaded successfully',
      files: [
        {
          path: '/uploaded_files/résumé 日本語 🎉_1.pdf',
          saved_path: 'uploaded_files/résumé 日本語 🎉_1.pdf',
          size: 3,
        },
        { path: '/uploaded_files/big.bin', saved_path: 'uploaded_files/big.bin', size: big.length },
      ],
    })
    expect((await readFile(join(dir, 'uploaded_files/big.bin'))).equals(big)).toBe(true)
    expect((await readdir(join(dir, 'uploaded_files'))).filter((n) => n.startsWith('.'))).toEqual([])
  })

  it('creates a new session for the requesting device, and needs a device to do so', async () => {
    const server = await startFileServer()
    const fresh = 'new-session-1'
    const denied = await upload(server.url, multipart(fresh, [{ name: 'a.txt', content: 'x' }]), '')
    expect(denied.status).toBe(400)
    expect((await json(denied)).message).toMatch(/device id/)

    const created = await upload(server.url, multipart(fresh, [{ name: 'a.txt', content: 'x' }]), 'dev-b')
    expect(created.status).toBe(200)
    expect((await server.context.store.getSession(fresh))?.deviceId).toBe('dev-b')
    const dir = server.context.workspaces.dirFor(fresh)
    expect(await readFile(join(dir, 'uploaded_files/a.txt'), 'utf8')).toBe('x')
    expect((await stat(join(dir, 'agent_memory'))).isDirectory()).toBe(true)

    const bad = await postJson(
      server,
      '/api/upload',
      { session_id: '../x', file: { path: 'a', content: 'b' } },
      { device: 'dev-b' },
    )
    expect(bad.status).toBe(400)
  })

  it("refuses another device's session (403) and accepts the server token instead", async () => {
    const token = 'a-long-enough-server-token'
    const server = await startFileServer({ BERTH_AUTH_TOKEN: token })
    const dir = await server.session(SESSION, 'dev-a')
    const body = { session_id: SESSION, file: { path: 'x.txt', content: 'x' } }
    expect((await postJson(server, '/api/upload', body, { device: 'dev-a' })).status).toBe(401)
    const other = await postJson(server, '/api/upload', body, { device: 'dev-b', token })
    expect(other.status).toBe(200) // the token holder may act on every session
    const forbidden = await startFileServer()
    await forbidden.session(SESSION, 'dev-a')
    const response = await postJson(forbidden, '/api/upload', body, { device: 'dev-b' })
    expect(response.status).toBe(403)
    expect((await json(response)).code).toBe('ACCESS_DENIED')
    expect(await readdir(join(forbidden.context.workspaces.dirFor(SESSION), 'uploaded_files'))).toEqual([])
    expect(await readdir(join(dir, 'uploaded_files'))).toEqual(['x.txt'])
  })

  it('answers 413 over the upload limit, for both forms, and leaves no file behind', async () => {
    const server = await startFileServer({ BERTH_UPLOAD_LIMIT: '1MB' })
    const dir = await server.session(SESSION, 'dev-a')
    const tooBig = Buffer.alloc(1024 * 1024 + 1, 1)
    const streamed = await upload(server.url, multipart(SESSION, [{ name: 'big.bin', content: tooBig }]))
    expect(streamed.status).toBe(413)
    const error = await json(streamed)
    expect(error.code).toBe('PAYLOAD_TOO_LARGE')
    expect(error.message).toMatch(/upload limit of 1000000 bytes.*BERTH_UPLOAD_LIMIT/)

    const jsonForm = await postJson(
      server,
      '/api/upload',
      { session_id: SESSION, file: { path: 'big.bin', content: `data:;base64,${tooBig.toString('base64')}` } },
      { device: 'dev-a' },
    )
    expect(jsonForm.status).toBe(413)
    expect((await json(jsonForm)).code).toBe('PAYLOAD_TOO_LARGE')
    const hugeJson = await postJson(
      server,
      '/api/upload',
      { session_id: SESSION, file: { path: 'big.bin', content: 'x'.repeat(3 * 1024 * 1024) } },
      { device: 'dev-a' },
    )
    expect(hugeJson.status).toBe(413)
    expect((await json(hugeJson)).message).toMatch(/upload limit/)
    expect(await readdir(join(dir, 'uploaded_files'))).toEqual([])

    const fits = await upload(server.url, multipart(SESSION, [{ name: 'ok.bin', content: Buffer.alloc(1000, 2) }]))
    expect(fits.status).toBe(200) // the server is fine after refusing
  })

  it('refuses an upload that would take the workspace over its quota', async () => {
    const server = await startFileServer({ BERTH_WORKSPACE_QUOTA: '100KB' })
    const dir = await server.session(SESSION, 'dev-a', { 'data.bin': Buffer.alloc(60_000) })
    const response = await upload(server.url, multipart(SESSION, [{ name: 'more.bin', content: Buffer.alloc(50_000) }]))
    expect(response.status).toBe(413)
    expect((await json(response)).code).toBe('WORKSPACE_QUOTA_EXCEEDED')
    expect(await readdir(join(dir, 'uploaded_files'))).toEqual([])
    const small = await upload(server.url, multipart(SESSION, [{ name: 'small.bin', content: Buffer.alloc(30_000) }]))
    expect(small.status).toBe(200)
  })

  it('needs session_id before the files in a multipart upload', async () => {
    const server = await startFileServer()
    await server.session(SESSION, 'dev-a')
    const form = new FormData()
    form.append('file', new Blob(['x']), 'a.txt')
    form.append('session_id', SESSION)
    const response = await upload(server.url, form)
    expect(response.status).toBe(400)
    expect((await json(response)).message).toMatch(/session_id field before the files/)
  })
})

import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/temp-dir.js'
import { type FileServer, json, type RawResponse, rawRequest, startFileServer } from './file-routes-harness.js'

const SESSION = 'victim-session'
const OTHER = 'other-session'
const SECRETS = ['ROOT-SECRET-7f3a', 'OUTSIDE-SECRET-91bc', 'OTHER-SESSION-SECRET-55d2']

/**
 * A data root with secrets where a traversal would land: next to events.db,
 * outside the data root, and in another device's workspace; plus symlinks
 * inside the victim's workspace pointing at them.
 */
async function setup(env: Record<string, string> = {}) {
  const server = await startFileServer(env)
  const outside = await tempDir('berth-outside-')
  await writeFile(join(server.root, 'secret.txt'), SECRETS[0] as string)
  await writeFile(join(outside, 'secret.txt'), SECRETS[1] as string)
  const dir = await server.session(SESSION, 'dev-a', { 'site/index.html': '<p>ok</p>', 'notes.txt': 'fine' })
  await server.session(OTHER, 'dev-b', { 'private.txt': SECRETS[2] as string })
  await symlink(join(outside, 'secret.txt'), join(dir, 'leak.txt'))
  await symlink(outside, join(dir, 'leakdir'))
  await symlink('../../secret.txt', join(dir, 'site/up.txt'))
  return { server, outside, dir }
}

const PATHS = [
  '../secret.txt',
  '../../secret.txt',
  `../${OTHER}/private.txt`,
  '%2e%2e%2fsecret.txt',
  '%2e%2e/%2e%2e/secret.txt',
  '%252e%252e%252fsecret.txt',
  '..\\..\\secret.txt',
  '..%5c..%5csecret.txt',
  'site/../../secret.txt',
  '/etc/passwd',
  '/proc/self/environ',
  'C:\\secret.txt',
  '\\\\server\\share\\secret.txt',
  'notes.txt\u0000.png',
  'notes.txt%00.png',
  'leak.txt',
  'leakdir/secret.txt',
  'leakdir',
  'site/up.txt',
]
const WORKSPACE_IDS = ['/', '..', '.', '../..', `../${OTHER}`, '/etc', '%2e%2e', `${SESSION}/..`, 'C:\\', '']

function expectNoSecret(body: Buffer | string, label: string) {
  const text = body.toString()
  const bytes = Buffer.isBuffer(body) ? body.toString('latin1') : text
  for (const secret of SECRETS) {
    expect(text.includes(secret) || bytes.includes(secret), `${label} leaked ${secret}`).toBe(false)
  }
  // A zip that deflated a secret would hide it; none of these requests may get a zip of anything outside.
  expect(text.includes('root:x:0:0'), `${label} leaked /etc/passwd`).toBe(false)
}

async function api(server: FileServer, path: string, body: unknown): Promise<RawResponse> {
  return rawRequest(server.port, {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', 'x-device-id': 'dev-a' },
    body: JSON.stringify(body),
  })
}

describe('path traversal against every route that takes a path or a name', () => {
  it('file routes (POST and GET forms): no path and no workspace_id reads outside the workspace', async () => {
    const { server } = await setup()
    const routes = ['/api/files/list', '/api/files/content', '/api/files/download', '/api/files/download-zip']
    for (const route of routes) {
      for (const path of PATHS) {
        const response = await api(server, route, { workspace_id: SESSION, path })
        expectNoSecret(response.body, `${route} path=${JSON.stringify(path)}`)
        expect([400, 403, 404], `${route} ${JSON.stringify(path)} -> ${response.status}`).toContain(response.status)
      }
      for (const id of WORKSPACE_IDS) {
        for (const path of [
          'secret.txt',
          'etc/passwd',
          'proc/self/environ',
          'var/data/events.db',
          `${OTHER}/private.txt`,
        ]) {
          const response = await api(server, route, { workspace_id: id, path })
          expectNoSecret(response.body, `${route} workspace_id=${JSON.stringify(id)}`)
          expect([400, 403, 404]).toContain(response.status)
        }
      }
    }
    for (const route of ['/api/files/download', '/api/files/download-zip']) {
      for (const query of [
        'workspace_id=..&path=secret.txt',
        'workspace_id=%2F&path=etc%2Fpasswd',
        `workspace_id=${SESSION}&path=..%2F..%2Fsecret.txt`,
        `workspace_id=${SESSION}&path=%252e%252e%252fsecret.txt`,
        `workspace_id=${SESSION}&path=..%5C..%5Csecret.txt`,
        `workspace_id=${SESSION}&path=leakdir`,
        `workspace_id=${SESSION}&path=leak.txt%00`,
        `workspace_id=${SESSION}/..&path=secret.txt`,
      ]) {
        const response = await rawRequest(server.port, {
          path: `${route}?${query}`,
          headers: { 'x-device-id': 'dev-a' },
        })
        expectNoSecret(response.body, `${route}?${query}`)
        expect([400, 403, 404]).toContain(response.status)
      }
    }
    // The tree and the zip of the whole workspace leave the links leading out alone.
    const tree = await api(server, '/api/files/list', { workspace_id: SESSION })
    expect(tree.status).toBe(200)
    expect(tree.body.toString()).not.toContain('leak')
    const zip = await api(server, '/api/files/download-zip', { workspace_id: SESSION })
    expect(zip.status).toBe(200)
    expect(zip.body.toString('latin1')).not.toContain('leak')
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  })

  it('uploads: names keep only their basename, bad session ids are refused, nothing lands outside', async () => {
    const { server, outside, dir } = await setup()
    for (const name of [...PATHS, '../../../../tmp/evil.txt', '..', '.', '...']) {
      const response = await api(server, '/api/upload', { session_id: SESSION, file: { path: name, content: 'PWNED' } })
      expect([200, 400], `${JSON.stringify(name)} -> ${response.status}`).toContain(response.status)
      if (response.status === 200) {
        const saved = JSON.parse(response.body.toString()).file.saved_path as string
        expect(saved).toMatch(/^uploaded_files\/[^/\\]+$/)
        expect(await readFile(join(dir, saved), 'utf8')).toBe('PWNED')
      }
    }
    for (const name of ['../../secret.txt', '..\\..\\evil.txt', '/etc/evil.txt', '.env']) {
      const form = new FormData()
      form.append('session_id', SESSION)
      form.append('file', new Blob(['PWNED']), name)
      const response = await fetch(`${server.url}/api/upload`, {
        method: 'POST',
        headers: { 'x-device-id': 'dev-a' },
        body: form,
      })
      expect(response.status).toBe(200)
      expect((await json(response)).files[0].saved_path).toMatch(/^uploaded_files\/[^/\\.][^/\\]*$/)
    }
    for (const id of [...WORKSPACE_IDS, '/tmp/evil', `${OTHER}/../${SESSION}`]) {
      const json = await api(server, '/api/upload', { session_id: id, file: { path: 'x.txt', content: 'PWNED' } })
      expect([400, 403], `session_id ${JSON.stringify(id)} -> ${json.status}`).toContain(json.status)
    }
    const intoOther = await api(server, '/api/upload', { session_id: OTHER, file: { path: 'x.txt', content: 'PWNED' } })
    expect(intoOther.status).toBe(403)

    // uploaded_files itself swapped for a link leading out: refused, nothing written there.
    await rm(join(dir, 'uploaded_files'), { recursive: true })
    await symlink(outside, join(dir, 'uploaded_files'))
    const viaLink = await api(server, '/api/upload', { session_id: SESSION, file: { path: 'x.txt', content: 'PWNED' } })
    expect(viaLink.status).toBe(403)

    expect(await readFile(join(server.root, 'secret.txt'), 'utf8')).toBe(SECRETS[0])
    expect(await readdir(outside)).toEqual(['secret.txt'])
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe(SECRETS[1])
    expect((await readdir(server.root)).sort()).toEqual(expect.not.arrayContaining(['evil.txt', 'x.txt']))
    expect(await readdir(server.context.workspaces.dirFor(OTHER))).not.toContain('x.txt')
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  })

  it('static hosting: raw, encoded, double-encoded, backslash, NUL and symlink paths all stay inside', async () => {
    const { server } = await setup({ STATIC_BASE_URL: 'http://sites.example.test' })
    const paths = [
      `/workspace/${SESSION}/../secret.txt`,
      `/workspace/${SESSION}/../../secret.txt`,
      `/workspace/${SESSION}/%2e%2e/secret.txt`,
      `/workspace/${SESSION}/%2e%2e/%2e%2e/secret.txt`,
      `/workspace/${SESSION}/%2e%2e%2f%2e%2e%2fsecret.txt`,
      `/workspace/${SESSION}/%252e%252e/%252e%252e/secret.txt`,
      `/workspace/${SESSION}/..\\..\\secret.txt`,
      `/workspace/${SESSION}/..%5c..%5csecret.txt`,
      `/workspace/${SESSION}/%2fetc%2fpasswd`,
      `/workspace/${SESSION}//etc/passwd`,
      `/workspace/${SESSION}/notes.txt%00.html`,
      `/workspace/${SESSION}/%C0%AE%C0%AE/secret.txt`,
      `/workspace/${SESSION}/leak.txt`,
      `/workspace/${SESSION}/leakdir/secret.txt`,
      `/workspace/${SESSION}/leakdir/`,
      `/workspace/${SESSION}/site/up.txt`,
      '/workspace/../secret.txt',
      '/workspace/%2e%2e/secret.txt',
      '/workspace/..%2fsecret.txt',
      '/workspace/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/workspace//etc/passwd',
      '/workspace/%2Fetc/passwd',
      `/workspace/${OTHER}/../../secret.txt`,
      '/workspace/./secret.txt',
    ]
    for (const path of paths) {
      for (const host of [undefined, 'sites.example.test']) {
        const headers: Record<string, string> = host ? { host } : {}
        for (const variant of host ? [path, path.replace(/^\/workspace/, '')] : [path]) {
          const response = await rawRequest(server.port, { path: variant, headers })
          expectNoSecret(response.body, `GET ${variant} (host ${host})`)
          expect([400, 404], `${variant} -> ${response.status}`).toContain(response.status)
        }
      }
    }
    const fine = await rawRequest(server.port, { path: `/workspace/${SESSION}/site/index.html` })
    expect(fine.body.toString()).toBe('<p>ok</p>')
  })

  it('a symlink swapped in after a file was cached is noticed and never served', async () => {
    const { server, dir, outside } = await setup()
    const path = `/workspace/${SESSION}/site/index.html`
    expect((await rawRequest(server.port, { path })).status).toBe(200)
    await rm(join(dir, 'site'), { recursive: true })
    await mkdir(join(outside, 'site'))
    await writeFile(join(outside, 'site/index.html'), SECRETS[1] as string)
    await symlink(join(outside, 'site'), join(dir, 'site'))
    await sleep(600) // past the cache's revalidation interval
    const after = await rawRequest(server.port, { path })
    expect(after.status).toBe(404)
    expectNoSecret(after.body, 'swapped symlink')
  })
})

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../helpers/berth-server.js'
import { connect } from '../helpers/ws-client.js'

let t: TestServer
let token = ''
let sessionId = ''

async function call(path: string, init: RequestInit & { device?: string } = {}) {
  const headers = new Headers(init.headers)
  if (init.device) headers.set('x-device-id', init.device)
  if (init.body) headers.set('content-type', 'application/json')
  const response = await fetch(`${t.server.url}${path}`, { ...init, headers })
  return { status: response.status, body: (await response.json()) as Record<string, any> }
}

beforeAll(async () => {
  t = await startTestServer(await mkdtemp(join(tmpdir(), 'berth-share-files-')))
  t.llm.enqueue({ text: 'ok' })
  const socket = await connect(t.wsUrl({ device_id: 'owner-1' }))
  sessionId = (await socket.next('connection_established')).content.session_uuid
  socket.send({ type: 'query', content: { text: 'hello' } })
  await socket.next('stream_complete')
  await socket.close()
  const workspace = join(t.root, 'workspace', sessionId)
  await mkdir(join(workspace, 'site', 'css'), { recursive: true })
  await writeFile(join(workspace, 'site', 'index.html'), '<h1>hi</h1>')
  await writeFile(join(workspace, 'site', 'css', 'a.css'), 'h1{}')
  await writeFile(join(workspace, '.env'), 'SECRET=1')
  await writeFile(join(workspace, 'logo.bin'), Buffer.from([0, 1, 2, 255]))
  token = (await call(`/api/sessions/${sessionId}/share`, { method: 'POST', body: '{}', device: 'owner-1' })).body.share
    .token
})
afterAll(async () => {
  await t?.stop()
  if (t) await rm(t.root, { recursive: true, force: true })
})

describe('read-only workspace files through a share link', () => {
  it('lists one level at a time, without hidden files, by GET or POST', async () => {
    const root = await call(`/api/share/${token}/files/list`, { method: 'POST', body: '{}' })
    expect(root.status).toBe(200)
    const names = root.body.files.map((f: { name: string }) => f.name)
    expect(names).toContain('site')
    expect(names).not.toContain('.env')
    const site = root.body.files.find((f: { name: string }) => f.name === 'site')
    expect(site).toMatchObject({ type: 'folder', partial: true, children: [] })

    const inner = await call(`/api/share/${token}/files/list?path=site`)
    expect(inner.body.files.map((f: { path: string }) => f.path)).toEqual(['site/css', 'site/index.html'])
  })

  it('returns text as UTF-8 and binary as base64, and refuses hidden files and escapes', async () => {
    const html = await call(`/api/share/${token}/files/content`, {
      method: 'POST',
      body: JSON.stringify({ path: 'site/index.html' }),
    })
    expect(html.body).toEqual({ content: '<h1>hi</h1>', encoding: 'utf-8' })
    const binary = await call(`/api/share/${token}/files/content?path=logo.bin`)
    expect(binary.body).toEqual({ content: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' })

    expect((await call(`/api/share/${token}/files/content?path=.env`)).status).toBe(404)
    expect((await call(`/api/share/${token}/files/content?path=site/../.env`)).status).toBe(404)
    const outside = await call(`/api/share/${token}/files/content?path=../../events.db`)
    expect(outside.status).toBeGreaterThanOrEqual(400)
    expect(outside.status).toBeLessThan(500)
  })

  it('answers 404 for an unknown or revoked token', async () => {
    expect((await call(`/api/share/${'x'.repeat(32)}/files/list`, { method: 'POST', body: '{}' })).status).toBe(404)
    const other = (
      await call(`/api/sessions/${sessionId}/share`, { method: 'POST', body: '{"new":true}', device: 'owner-1' })
    ).body.share.token
    expect((await call(`/api/share/${other}/files/list?path=site`)).status).toBe(200)
    await call(`/api/sessions/${sessionId}/shares/${other}`, { method: 'DELETE', device: 'owner-1' })
    const revoked = await call(`/api/share/${other}/files/list?path=site`)
    expect(revoked.status).toBe(404)
    expect(revoked.body.code).toBe('SHARE_NOT_FOUND')
  })
})

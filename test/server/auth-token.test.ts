import { describe, expect, it } from 'vitest'
import { connect } from '../helpers/ws-client.js'
import { apiClient, serverForFile } from './harness.js'

const TOKEN = 'a-long-enough-test-token-1234567890'
const server = serverForFile({ BERTH_AUTH_TOKEN: TOKEN })
const api = apiClient(() => server().server.url)

describe('server token (BERTH_AUTH_TOKEN)', () => {
  it('guards the API and the socket, and leaves health, share pages and deployed sites public', async () => {
    const t = server()
    const denied = await api('/api/sessions/dev', { device: 'dev' })
    expect(denied.status).toBe(401)
    expect(denied.body.code).toBe('AUTH_REQUIRED')
    expect((await api('/api/sessions/dev', { device: 'dev', token: 'wrong-token-wrong-token-wrong' })).status).toBe(401)
    expect((await api('/api/sessions/dev', { device: 'dev', token: TOKEN })).status).toBe(200)
    // The token holder may act on any device's sessions.
    expect((await api('/api/sessions/anyone', { token: TOKEN })).status).toBe(200)
    expect((await api('/metrics')).status).toBe(401)
    expect((await api('/metrics', { token: TOKEN })).body).toContain('berth_sessions')

    expect((await api('/healthz')).status).toBe(200)
    expect((await api('/readyz')).status).toBe(200)
    expect((await api('/api/share/not-a-real-token-but-long-enough')).status).toBe(404)
    expect((await api('/workspace/00000000-0000-4000-8000-000000000000/index.html')).status).toBe(404)
    // The operator's banner: the reference frontend's Next server asks for it without a token.
    expect(await api('/api/maintenance_message')).toMatchObject({ status: 200, body: { message: null } })
    expect((await api('/api/maintenance_messages')).status).toBe(401)

    await expect(connect(t.wsUrl({ device_id: 'dev' }))).rejects.toThrow(/401/)
    // A share viewer follows live without the token, but a bogus share token is still refused.
    const bogus = await connect(t.wsUrl({ share: 'not-a-real-token-but-long-enough' }))
    expect((await bogus.closed).code).toBe(1008)
    const socket = await connect(t.wsUrl({ device_id: 'dev', token: TOKEN }))
    expect((await socket.next('connection_established')).content.server_ready).toBe(true)
    await socket.close()

    // A browser logs in once; the cookie then carries the token.
    const login = await fetch(`${t.server.url}/login?token=${TOKEN}`, { redirect: 'manual' })
    expect(login.status).toBe(302)
    const cookie = login.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/berth_token=.+HttpOnly/)
    const withCookie = await fetch(`${t.server.url}/api/sessions/dev`, {
      headers: { cookie: cookie.split(';')[0] as string, 'x-device-id': 'dev' },
    })
    expect(withCookie.status).toBe(200)
    expect((await fetch(`${t.server.url}/login?token=nope`, { redirect: 'manual' })).status).toBe(401)
  })

  it('publishes an OpenAPI document of the HTTP API', async () => {
    const doc = await api('/openapi.json', { token: TOKEN })
    expect(doc.body.openapi).toMatch(/^3\./)
    for (const path of ['/api/sessions/{device_id}', '/api/sessions/{id}/events', '/api/upload', '/api/files/list']) {
      expect(Object.keys(doc.body.paths)).toContain(path)
    }
  })
})

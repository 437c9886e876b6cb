import { describe, expect, it } from 'vitest'
import { startFileServer } from './file-routes-harness.js'

const UI = 'http://localhost:3000'
const SESSION = '7d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a'

/** A browser's preflight before a JSON POST (or any non-simple request) from `origin`. */
function preflight(url: string, origin: string, method = 'POST', headers = 'content-type') {
  return fetch(url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  })
}

describe('CORS with BERTH_CORS_ORIGINS listing the frontend origin', () => {
  it('answers the preflight of every API route, before any token check', async () => {
    const server = await startFileServer({
      BERTH_CORS_ORIGINS: `${UI}, https://other.example`,
      BERTH_AUTH_TOKEN: 'x'.repeat(20),
    })
    for (const path of [
      '/api/upload',
      '/api/files/list',
      '/api/generate-summary',
      `/api/sessions/${SESSION}/summary`,
    ]) {
      const answer = await preflight(`${server.url}${path}`, UI)
      expect(answer.status, path).toBe(204)
      expect(answer.headers.get('access-control-allow-origin'), path).toBe(UI)
      expect(answer.headers.get('access-control-allow-credentials')).toBe('true')
      expect(answer.headers.get('access-control-allow-methods')).toContain('POST')
      expect(answer.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type')
    }
    const del = await preflight(
      `${server.url}/api/sessions/${SESSION}`,
      'https://other.example',
      'DELETE',
      'x-device-id',
    )
    expect(del.headers.get('access-control-allow-origin')).toBe('https://other.example')
    expect(del.headers.get('access-control-allow-methods')).toContain('DELETE')
  })

  it('lets the listed origin read answers, errors included', async () => {
    const server = await startFileServer({ BERTH_CORS_ORIGINS: UI })
    await server.session(SESSION, 'dev-a')
    const ok = await fetch(`${server.url}/api/sessions/${SESSION}/events`, {
      headers: { origin: UI, 'x-device-id': 'dev-a' },
    })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI)
    expect(ok.headers.get('vary')?.toLowerCase()).toContain('origin')
    const denied = await fetch(`${server.url}/api/sessions/${SESSION}/events`, { headers: { origin: UI } })
    expect(denied.status).toBe(403)
    expect(denied.headers.get('access-control-allow-origin')).toBe(UI)
  })

  it('gives an origin that is not listed no CORS headers, preflight included', async () => {
    const server = await startFileServer({ BERTH_CORS_ORIGINS: UI })
    const evil = 'https://evil.example'
    const pre = await preflight(`${server.url}/api/upload`, evil)
    expect(pre.headers.get('access-control-allow-origin')).toBeNull()
    expect(pre.headers.get('access-control-allow-methods')).toBeNull()
    const get = await fetch(`${server.url}/api/models`, { headers: { origin: evil } })
    expect(get.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('CORS with *', () => {
  it('allows any origin without credentials, but never Origin: null (a sandboxed deployed site)', async () => {
    const server = await startFileServer({ BERTH_CORS_ORIGINS: '*' })
    const any = await fetch(`${server.url}/api/models`, { headers: { origin: 'https://any.example' } })
    expect(any.headers.get('access-control-allow-origin')).toBe('*')
    expect(any.headers.get('access-control-allow-credentials')).toBeNull()
    for (const answer of [
      await fetch(`${server.url}/api/models`, { headers: { origin: 'null' } }),
      await preflight(`${server.url}/api/upload`, 'null'),
    ]) {
      expect(answer.headers.get('access-control-allow-origin')).toBeNull()
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull()
    }
  })
})

describe('CORS by default (no BERTH_CORS_ORIGINS)', () => {
  it('sends no CORS headers to anyone', async () => {
    const server = await startFileServer()
    const get = await fetch(`${server.url}/api/models`, { headers: { origin: UI } })
    expect(get.headers.get('access-control-allow-origin')).toBeNull()
    const pre = await preflight(`${server.url}/api/upload`, UI)
    expect(pre.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('refuses BERTH_CORS_ORIGINS values that are not origins', async () => {
    for (const value of ['null', 'localhost:3000', 'https://ui.example/path', 'ftp://x.example']) {
      await expect(startFileServer({ BERTH_CORS_ORIGINS: value }), value).rejects.toThrow(/BERTH_CORS_ORIGINS/)
    }
  })
})

import { symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { rawRequest, startFileServer } from './file-routes-harness.js'

/**
 * The policy written out, not imported from src: a test that compared with the
 * constant would pass whatever the constant said. No allow-same-origin, so a
 * deployed page cannot reach berth's cookies, storage or API as berth's origin.
 */
const SITE_CSP = 'sandbox allow-scripts allow-forms allow-popups allow-modals'
const SESSION = 'site-1'
const REVALIDATE_MS = 600
const PAGE = `<!doctype html><title>t</title>${'<p>hello world</p>'.repeat(200)}`
const SITE = {
  'site/index.html': PAGE,
  'site/app.js': 'console.log(1)',
  'site/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]),
  'site/.env': 'SECRET=1',
  'site/empty/readme.txt': 'no index here',
  'site/data.json': JSON.stringify({ a: 1 }),
  'site/big.txt': 'abcdefghij'.repeat(100_000),
}

function expectSiteHeaders(headers: Record<string, unknown>) {
  expect(headers['content-security-policy']).toBe(SITE_CSP)
  expect(headers['x-content-type-options']).toBe('nosniff')
}

describe('static hosting of deployed sites', () => {
  it('serves files with MIME types, sandbox CSP, nosniff, validators; no token and no device needed', async () => {
    const server = await startFileServer({ BERTH_AUTH_TOKEN: 'a-long-enough-server-token' })
    await server.session(SESSION, 'dev-a', SITE)
    const page = await fetch(`${server.url}/workspace/${SESSION}/site/index.html`, {
      headers: { 'accept-encoding': 'identity' },
    })
    expect(page.status).toBe(200)
    expect(await page.text()).toBe(PAGE)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('content-security-policy')).toBe(SITE_CSP)
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    expect(page.headers.get('etag')).toMatch(/^"[0-9a-z-]+"$/)
    expect(page.headers.get('last-modified')).toMatch(/GMT$/)
    const js = await fetch(`${server.url}/workspace/${SESSION}/site/app.js`)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    const png = await fetch(`${server.url}/workspace/${SESSION}/site/logo.png`)
    expect(png.headers.get('content-type')).toBe('image/png')
    expect(Buffer.from(await png.arrayBuffer())).toEqual(SITE['site/logo.png'])
    const json = await fetch(`${server.url}/workspace/${SESSION}/site/data.json`)
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8')
    // The API itself still needs the token.
    expect((await fetch(`${server.url}/api/files/list`, { method: 'POST' })).status).toBe(401)
  })

  it('answers 304 to a matching If-None-Match or If-Modified-Since, and notices a changed file', async () => {
    const server = await startFileServer()
    const dir = await server.session(SESSION, 'dev-a', SITE)
    const url = `${server.url}/workspace/${SESSION}/site/app.js`
    const first = await fetch(url)
    const etag = first.headers.get('etag') as string
    const again = await fetch(url, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(again.headers.get('content-security-policy')).toBe(SITE_CSP)
    const since = await fetch(url, { headers: { 'if-modified-since': first.headers.get('last-modified') as string } })
    expect(since.status).toBe(304)

    await writeFile(join(dir, 'site/app.js'), 'console.log(2)')
    await utimes(join(dir, 'site/app.js'), new Date(), new Date(Date.now() + 5000))
    await sleep(REVALIDATE_MS) // a cached file is checked against the disk at most this often
    const changed = await fetch(url, { headers: { 'if-none-match': etag } })
    expect(changed.status).toBe(200)
    expect(await changed.text()).toBe('console.log(2)')
    expect(changed.headers.get('etag')).not.toBe(etag)
  })

  it('answers repeated plain requests from memory with the same bytes and headers, counts them, sees changes', async () => {
    const server = await startFileServer()
    const dir = await server.session(SESSION, 'dev-a', SITE)
    const path = `/workspace/${SESSION}/site/data.json`
    const metric = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text()
      const line = text
        .split('\n')
        .find((l) => l.startsWith('berth_http_requests_total{method="GET",route="/workspace/*",status="200"}'))
      return Number(line?.split(' ').pop() ?? 0)
    }
    const first = await rawRequest(server.port, { path }) // read from disk, now in memory
    const before = await metric()
    const hits = await Promise.all(Array.from({ length: 5 }, () => rawRequest(server.port, { path })))
    for (const hit of hits) {
      expect(hit.status).toBe(200)
      expect(hit.body.toString()).toBe(SITE['site/data.json'])
      expectSiteHeaders(hit.headers)
      for (const name of ['content-type', 'etag', 'last-modified', 'content-length', 'cache-control'])
        expect(hit.headers[name]).toBe(first.headers[name])
    }
    expect((await metric()) - before).toBe(5)
    const head = await rawRequest(server.port, { method: 'HEAD', path })
    expect(head.status).toBe(200)
    expect(head.body.length).toBe(0)
    expect(head.headers['content-length']).toBe(String(SITE['site/data.json'].length))
    // Not a site URL, though it starts alike: fastify's 404, not a file.
    expect((await rawRequest(server.port, { path: `/workspacex/${SESSION}/site/data.json` })).status).toBe(404)

    await writeFile(join(dir, 'site/data.json'), '{"a": 2}')
    await utimes(join(dir, 'site/data.json'), new Date(), new Date(Date.now() + 5000))
    await sleep(REVALIDATE_MS)
    expect((await rawRequest(server.port, { path })).body.toString()).toBe('{"a": 2}')
  })

  it('serves single byte ranges with 206, and 416 for an unsatisfiable one, from memory and from disk', async () => {
    const server = await startFileServer()
    await server.session(SESSION, 'dev-a', SITE)
    for (const name of ['index.html', 'big.txt']) {
      const path = `/workspace/${SESSION}/site/${name}`
      const body = SITE[`site/${name}` as 'site/index.html']
      const size = Buffer.byteLength(body)
      const part = await rawRequest(server.port, { path, headers: { range: 'bytes=10-19' } })
      expect(part.status).toBe(206)
      expect(part.headers['content-range']).toBe(`bytes 10-19/${size}`)
      expect(part.body.toString()).toBe(body.slice(10, 20))
      const tail = await rawRequest(server.port, { path, headers: { range: 'bytes=-5' } })
      expect(tail.body.toString()).toBe(body.slice(-5))
      const bad = await rawRequest(server.port, { path, headers: { range: `bytes=${size}-` } })
      expect(bad.status).toBe(416)
      expect(bad.headers['content-range']).toBe(`bytes */${size}`)
      expectSiteHeaders(bad.headers)
      const ignored = await rawRequest(server.port, { path, headers: { range: 'bytes=0-1,5-6' } })
      expect(ignored.status).toBe(200)
      expect(ignored.body.length).toBe(size)
      const head = await rawRequest(server.port, { method: 'HEAD', path })
      expect(head.status).toBe(200)
      expect(head.headers['content-length']).toBe(String(size))
      expect(head.body.length).toBe(0)
    }
  })

  it('compresses text with br or gzip as negotiated, leaves images alone, and says Vary', async () => {
    const server = await startFileServer()
    await server.session(SESSION, 'dev-a', SITE)
    const path = `/workspace/${SESSION}/site/index.html`
    const gz = await rawRequest(server.port, { path, headers: { 'accept-encoding': 'gzip' } })
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(gz.headers.vary).toBe('Accept-Encoding')
    expect(gz.body.length).toBeLessThan(PAGE.length / 4)
    expect(gunzipSync(gz.body).toString()).toBe(PAGE)
    const br = await rawRequest(server.port, { path, headers: { 'accept-encoding': 'gzip, deflate, br' } })
    expect(br.headers['content-encoding']).toBe('br')
    expect(brotliDecompressSync(br.body).toString()).toBe(PAGE)
    const refused = await rawRequest(server.port, { path, headers: { 'accept-encoding': 'gzip;q=0' } })
    expect(refused.headers['content-encoding']).toBeUndefined()
    const big = await rawRequest(server.port, {
      path: `/workspace/${SESSION}/site/big.txt`,
      headers: { 'accept-encoding': 'gzip' },
    })
    expect(big.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(big.body).toString()).toBe(SITE['site/big.txt'])
    const png = await rawRequest(server.port, {
      path: `/workspace/${SESSION}/site/logo.png`,
      headers: { 'accept-encoding': 'gzip' },
    })
    expect(png.headers['content-encoding']).toBeUndefined()
  })

  it('serves index.html for a folder, redirects a folder URL to its slash, never lists, hides dotfiles', async () => {
    const server = await startFileServer()
    await server.session(SESSION, 'dev-a', SITE)
    const redirect = await rawRequest(server.port, { path: `/workspace/${SESSION}/site?x=1` })
    expect(redirect.status).toBe(301)
    expect(redirect.headers.location).toBe(`/workspace/${SESSION}/site/?x=1`)
    expectSiteHeaders(redirect.headers)
    const index = await rawRequest(server.port, { path: `/workspace/${SESSION}/site/` })
    expect(index.status).toBe(200)
    expect(index.body.toString()).toBe(PAGE)
    const noIndex = await rawRequest(server.port, { path: `/workspace/${SESSION}/site/empty/` })
    expect(noIndex.status).toBe(404)
    expect(noIndex.body.toString()).not.toContain('readme')
    expectSiteHeaders(noIndex.headers)
    expect((await rawRequest(server.port, { path: `/workspace/${SESSION}/` })).status).toBe(404)
    expect((await rawRequest(server.port, { path: `/workspace/${SESSION}/site/.env` })).status).toBe(404)
    expect((await rawRequest(server.port, { path: `/workspace/${SESSION}/site/app.js/` })).status).toBe(404)
    expect((await rawRequest(server.port, { path: '/workspace/no-such-session/x.html' })).status).toBe(404)
  })

  it('serves a site behind an in-workspace symlink, but not one leading out', async () => {
    const server = await startFileServer()
    const dir = await server.session(SESSION, 'dev-a', SITE)
    await symlink('site', join(dir, 'alias'))
    await symlink('/etc', join(dir, 'etc'))
    expect((await rawRequest(server.port, { path: `/workspace/${SESSION}/alias/app.js` })).body.toString()).toBe(
      'console.log(1)',
    )
    const out = await rawRequest(server.port, { path: `/workspace/${SESSION}/etc/hostname` })
    expect(out.status).toBe(404)
  })

  it('serves sites at /<session>/<path> on the STATIC_BASE_URL host, and only there', async () => {
    const server = await startFileServer({ STATIC_BASE_URL: 'https://sites.example.test' })
    await server.session(SESSION, 'dev-a', SITE)
    const path = `/${SESSION}/site/app.js`
    const onSites = await rawRequest(server.port, { path, headers: { host: 'sites.example.test' } })
    expect(onSites.status).toBe(200)
    expect(onSites.body.toString()).toBe('console.log(1)')
    expectSiteHeaders(onSites.headers)
    const withPort = await rawRequest(server.port, { path, headers: { host: 'SITES.example.test:8443' } })
    expect(withPort.status).toBe(200)
    const onMain = await rawRequest(server.port, { path, headers: { host: `127.0.0.1:${server.port}` } })
    expect(onMain.status).toBe(404)
    const legacy = await rawRequest(server.port, { path: `/workspace${path}`, headers: { host: 'sites.example.test' } })
    expect(legacy.status).toBe(200)
  })
})

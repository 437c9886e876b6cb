import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ServerContext } from '../../src/server/context.js'
import { DEFAULT_WEB_ROOT, webUiRoutes } from '../../src/server/routes/web-ui.js'

let root: string
let app: FastifyInstance

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-webui-'))
  app = Fastify()
  // The plugin reads nothing from the context; a real server passes its own.
  await app.register(webUiRoutes, { context: {} as ServerContext, root })
  app.get('/api/ping', async () => ({ pong: true }))
  await app.ready()
})
afterEach(async () => {
  await app.close()
  await rm(root, { recursive: true, force: true })
})

const INDEX = '<!doctype html><div id="root"></div><script type="module" src="/assets/index-abc123.js"></script>'

describe('serving the built web UI', () => {
  it('says plainly to run the build when dist/web is missing, and picks the build up once it appears', async () => {
    const missing = await app.inject('/')
    expect(missing.statusCode).toBe(503)
    expect(missing.body).toContain('npm run build')

    await writeFile(join(root, 'index.html'), INDEX)
    const built = await app.inject('/')
    expect(built.statusCode).toBe(200)
    expect(built.body).toBe(INDEX)
  })

  it('answers the client-side routes with index.html, never cached, with a content security policy', async () => {
    await writeFile(join(root, 'index.html'), INDEX)
    for (const url of [
      '/',
      '/index.html',
      '/session/0b5a1c9e-1111-4222-8333-444455556666',
      '/share/abcDEF_123-xyz',
      '/?session=x',
    ]) {
      const reply = await app.inject(url)
      expect(reply.statusCode, url).toBe(200)
      expect(reply.headers['content-type']).toContain('text/html')
      expect(reply.headers['cache-control']).toBe('no-cache')
      expect(reply.headers['content-security-policy']).toContain("script-src 'self'")
    }
    // Other paths stay with their own routes (or 404): the UI claims only its own.
    expect((await app.inject('/api/ping')).json()).toEqual({ pong: true })
    expect((await app.inject('/metrics')).statusCode).toBe(404)
    expect((await app.inject('/workspace/s1/index.html')).statusCode).toBe(404)
  })

  it('serves hashed assets for a year, gzipped when the client accepts it, and nothing outside assets/', async () => {
    await mkdir(join(root, 'assets'))
    const script = `export const big = ${JSON.stringify('x'.repeat(5000))}\n`
    await writeFile(join(root, 'assets', 'index-abc123.js'), script)
    await writeFile(join(root, 'secret.txt'), 'no')

    const plain = await app.inject('/assets/index-abc123.js')
    expect(plain.statusCode).toBe(200)
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(plain.headers['content-type']).toContain('javascript')
    expect(plain.body).toBe(script)

    const zipped = await app.inject({ url: '/assets/index-abc123.js', headers: { 'accept-encoding': 'gzip, br' } })
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(zipped.rawPayload.length).toBeLessThan(script.length / 10)
    expect(gunzipSync(zipped.rawPayload).toString()).toBe(script)

    const missing = await app.inject('/assets/missing-1.js')
    expect(missing.statusCode).toBe(404)
    expect(missing.json()).toMatchObject({ code: 'FILE_NOT_FOUND', message: 'No such asset.' })
    expect((await app.inject('/assets/..%2Fsecret.txt')).statusCode).toBe(404)
    expect((await app.inject('/assets/.hidden')).statusCode).toBe(404)
  })

  it('finds dist/web from the package root', () => {
    expect(DEFAULT_WEB_ROOT.replaceAll('\\', '/')).toMatch(/\/dist\/web$/)
    expect(DEFAULT_WEB_ROOT).not.toContain(`${join('src', 'dist')}`)
  })
})

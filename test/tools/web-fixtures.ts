import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createGzip, gzipSync } from 'node:zlib'
import { makePdf } from './documents-fixtures.js'

/** A request the fake web saw. */
export interface SeenRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

/** The document at /doc: a title, links (relative and absolute), a table, and things to drop. */
export const DOC_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>Otter facts &amp; figures</title>
<style>body { color: red }</style><script>document.write('not content')</script></head>
<body>
<nav><a href="/">Home</a></nav>
<h1>Sea otters</h1>
<p>Sea otters hold hands while they sleep. See <a href="/species/river">river otters</a>
and the <a href="https://en.wikipedia.org/wiki/Sea_otter">encyclopedia</a>.</p>
<table>
  <caption>Sizes</caption>
  <thead><tr><th>Species</th><th>Length</th></tr></thead>
  <tbody>
    <tr><td>Sea otter</td><td>1.2 m</td></tr>
    <tr><td>Giant otter</td><td>1.8 m</td></tr>
  </tbody>
</table>
<ul><li>Dense fur</li><li>Tool use</li></ul>
</body></html>`

/** One DuckDuckGo HTML result block, as the real endpoint writes it. */
function ddgResult(url: string, title: string, snippet: string, ad = false): string {
  // Ads are marked by `result--ad` (their links usually go through /y.js; this one does not, so the class must count).
  const wrapped = `//duckduckgo.com/l/?uddg=${encodeURIComponent(url)}&amp;rut=0a1b2c3d`
  return `
<div class="result results_links results_links_deep web-result${ad ? ' result--ad' : ''} ">
  <div class="links_main links_deep result__body">
    <h2 class="result__title">
      <a rel="nofollow" class="result__a" href="${wrapped}">${title}</a>
    </h2>
    <div class="result__extras"><div class="result__extras__url">
      <a class="result__url" href="${wrapped}">${url}</a>
    </div></div>
    <a class="result__snippet" href="${wrapped}">${snippet}</a>
    <div class="clear"></div>
  </div>
</div>`
}

export function ddgPage(query: string): string {
  return `<!DOCTYPE html><html><head><title>${query} at DuckDuckGo</title></head><body>
<div id="links" class="results">
${ddgResult('https://ads.example/buy', 'Buy otters', 'An ad.', true)}
${ddgResult('https://en.wikipedia.org/wiki/Sea_otter', 'Sea otter - <b>Wikipedia</b>', 'The <b>sea otter</b> is a marine mammal &amp; a keystone species.')}
${ddgResult('https://otters.example/facts?a=1&b=2', 'Otter facts &#x27;24', 'Ten things about <b>otters</b>.')}
${ddgResult('https://zoo.example/otters', 'Zoo otters', '')}
</div></body></html>`
}

/** A two-page PDF behind /papers/kelp%20study.pdf and /report. */
export const PAPER_PDF = makePdf([['Otters hold hands.'], ['Kelp forests need otters.']])

/** A transcript as YouTube's timedtext endpoint answers it (srv3). */
export const TRANSCRIPT_XML = `<?xml version="1.0" encoding="utf-8" ?><timedtext format="3"><body>
<p t="0" d="1500">Otters hold hands</p>
<p t="1500" d="2000">so they do not drift apart &amp; lose each other.</p>
</body></timedtext>`

export interface FakeWeb {
  base: string
  port: number
  seen: SeenRequest[]
  close(): Promise<void>
}

/**
 * A local server playing the parts of the web the keyless tools talk to:
 * DuckDuckGo's HTML endpoint (/html/), pages (/doc, a redirect, a page that
 * never answers, an endless page, a PDF, an image that is not one, gzip, latin-1, JSON), arxiv's
 * /html/<id>, YouTube's player API, watch page and timedtext, and Serper's
 * image search (/serper/images).
 */
export async function startFakeWeb(): Promise<FakeWeb> {
  const seen: SeenRequest[] = []
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body })
    route(req, res, body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    seen,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

function html(res: ServerResponse, text: string, status = 200) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' })
  res.end(text)
}

function route(req: IncomingMessage, res: ServerResponse, body: string) {
  const url = new URL(req.url ?? '/', 'http://x')
  switch (url.pathname) {
    case '/html/': {
      const query = new URLSearchParams(body).get('q') ?? ''
      if (query === 'robot') {
        return html(
          res,
          '<html><body><div class="anomaly-modal">Unfortunately, bots use DuckDuckGo too.</div></body></html>',
          202,
        )
      }
      if (query === 'nothing') return html(res, '<html><body><div class="no-results">No results.</div></body></html>')
      return html(res, ddgPage(query))
    }
    case '/doc':
      return html(res, DOC_HTML)
    case '/moved':
      res.writeHead(302, { location: '/doc' })
      return res.end()
    case '/to-other-host':
      // 127.0.0.2 is loopback too; the redirect test lets only 127.0.0.1 through.
      res.writeHead(302, { location: `http://127.0.0.2:${url.searchParams.get('port')}/doc` })
      return res.end()
    case '/to-file':
      res.writeHead(302, { location: 'file:///etc/passwd' })
      return res.end()
    case '/loop':
      res.writeHead(301, { location: '/loop' })
      return res.end()
    case '/slow':
    case '/slow/extract': // Tavily's extract under a base of /slow
      return // never answers
    case '/huge': {
      // Endless: only a cap on the reader ends this download.
      res.writeHead(200, { 'content-type': 'text/html' })
      res.write('<!doctype html><html><head><title>Huge</title></head><body>')
      const line = `<p>${'otter '.repeat(100)}</p>\n`
      const pump = () => {
        while (res.write(line)) {}
        if (!res.destroyed) res.once('drain', pump)
      }
      res.once('close', () => res.removeAllListeners('drain'))
      return pump()
    }
    case '/huge-gzip': {
      // Endless and compressed: the cap counts the bytes after decompression.
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' })
      const gzip = createGzip()
      gzip.pipe(res)
      gzip.write('<!doctype html><html><head><title>Huge</title></head><body>')
      const line = `<p>${'otter '.repeat(100)}</p>\n`
      const pump = () => {
        while (!res.destroyed && gzip.write(line)) {}
        if (!res.destroyed) gzip.once('drain', pump)
      }
      res.once('close', () => gzip.destroy())
      return pump()
    }
    case '/cut':
    case '/cut-gzip': {
      // The connection dies halfway through the body.
      const zipped = url.pathname === '/cut-gzip'
      const full = Buffer.from(`<html><body>${'<p>otter</p>'.repeat(5000)}</body></html>`)
      const bodyBytes = zipped ? gzipSync(full) : full
      res.writeHead(200, {
        'content-type': 'text/html',
        'content-length': String(bodyBytes.byteLength),
        ...(zipped ? { 'content-encoding': 'gzip' } : {}),
      })
      res.write(bodyBytes.subarray(0, Math.floor(bodyBytes.byteLength / 2)))
      return setTimeout(() => res.socket?.destroy(), 50)
    }
    case '/papers/kelp%20study.pdf':
    case '/report': // a PDF whose address has no extension
      res.writeHead(200, { 'content-type': 'application/pdf' })
      return res.end(PAPER_PDF)
    case '/image.png':
      res.writeHead(200, { 'content-type': 'image/png' })
      return res.end(Buffer.alloc(2048, 1))
    case '/zipped':
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' })
      return res.end(gzipSync('<html><head><title>Zipped</title></head><body><p>Compressed otters.</p></body></html>'))
    case '/latin1':
      res.writeHead(200, { 'content-type': 'text/html; charset=iso-8859-1' })
      return res.end(Buffer.from('<html><body><p>Caf\xe9 of otters</p></body></html>', 'latin1'))
    case '/data.json':
      res.writeHead(200, { 'content-type': 'application/json' })
      return res.end('{"otters": 13}')
    case '/missing':
      return html(res, '<html><body>Not here</body></html>', 404)
    case '/youtubei/v1/player': {
      const videoId = String((JSON.parse(body || '{}') as { videoId?: string }).videoId)
      res.writeHead(200, { 'content-type': 'application/json' })
      const lang = { otterVideo1: 'en', germanVid01: 'de' }[videoId]
      if (lang === undefined) return res.end(JSON.stringify({ playabilityStatus: { status: 'OK' } }))
      return res.end(
        JSON.stringify({
          captions: {
            playerCaptionsTracklistRenderer: {
              captionTracks: [
                { baseUrl: `https://www.youtube.com/api/timedtext?v=${videoId}&lang=${lang}`, languageCode: lang },
              ],
            },
          },
        }),
      )
    }
    case '/watch':
      // A video whose captions are off: playable, no caption tracks.
      return html(
        res,
        '<html><script>var ytInitialPlayerResponse = {"playabilityStatus":{"status":"OK"}};</script></html>',
      )
    case '/api/timedtext':
      res.writeHead(200, { 'content-type': 'text/xml' })
      if (url.searchParams.get('lang') === 'de') {
        return res.end('<timedtext format="3"><body><p t="0" d="900">Otter halten Pfoten.</p></body></timedtext>')
      }
      return res.end(TRANSCRIPT_XML)
    case '/serper/images': {
      const query = (JSON.parse(body) as { q: string }).q
      res.writeHead(200, { 'content-type': 'application/json' })
      return res.end(
        JSON.stringify({
          searchParameters: { q: query, type: 'images' },
          images: [
            {
              title: 'Sea otter floating',
              imageUrl: 'https://images.example/otter.jpg',
              imageWidth: 1200,
              imageHeight: 800,
              thumbnailUrl: 'https://thumbs.example/otter.jpg',
              source: 'Example',
              link: 'https://example.org/otters',
              position: 1,
            },
            { title: 'No address', imageUrl: '', imageWidth: 1, imageHeight: 1, position: 2 },
          ],
        }),
      )
    }
    default:
      if (url.pathname.startsWith('/arxiv/html/')) {
        return html(
          res,
          `<html><head><title>Attention for otters</title></head><body><h1>Abstract</h1><p>Paper ${url.pathname.slice('/arxiv/html/'.length)}.</p></body></html>`,
        )
      }
      html(res, 'not found', 404)
  }
}

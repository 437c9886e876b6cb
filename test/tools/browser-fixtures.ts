import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { makePdf } from './documents-fixtures.js'

/** A local site for the browser tests; `seen` lists every path asked for, in order. */
export interface FakeSite {
  base: string
  port: number
  seen: string[]
  close(): Promise<void>
}

const PAGES: Record<string, string> = {
  // Text that only exists after scripts ran: one part after a fetch, one only after 1.5 s.
  '/scripted': `<!doctype html><title>Scripted</title><body><h1>Loading…</h1><p id="count"></p><p id="late"></p>
<script>
fetch('/data.json').then((r) => r.json()).then((d) => { document.querySelector('h1').textContent = d.message })
setTimeout(() => { document.getElementById('late').textContent = 'Written late: tortoise' }, 1500)
// Text that keeps changing for half a second by timers alone (no request): a step waits for the DOM to be quiet.
let n = 0
const tick = () => { n++; document.getElementById('count').textContent = 'Counted to ' + n; if (n < 10) setTimeout(tick, 50) }
addEventListener('load', () => setTimeout(tick, 50))
</script></body>`,
  '/form': `<!doctype html><title>Order form</title><body>
<form action="/result" method="get">
  <label>Name <input name="name" placeholder="Your name"></label>
  <select name="color" id="color"><option>Red</option><option value="g">Green</option><option>Blue</option></select>
  <button type="submit">Send order</button>
</form></body>`,
  '/links': `<!doctype html><title>Links</title><body>
<p><a href="/file.csv" id="dl">Get the data</a></p>
<p><a href="/paper.pdf" id="pdf">Read the paper</a></p>
<p><a href="/second" target="_blank" id="tab">Open second page</a></p>
</body>`,
  '/second': '<!doctype html><title>Second</title><body><p>The second page says puffin.</p></body>',
  '/long': `<!doctype html><title>Long</title><body>${Array.from({ length: 400 }, (_, i) => `<p>Paragraph ${i} of the long page.</p>`).join('')}<p>THE END MARKER</p></body>`,
}

/**
 * A real HTTP server: scripted text, a form with a dropdown, a download, a
 * PDF, a link to a new tab, a long page, and `/hang`, which never answers.
 */
export async function startFakeSite(): Promise<FakeSite> {
  const seen: string[] = []
  const pdf = makePdf([['Browser PDF page one: kestrel'], ['Browser PDF page two: heron']])
  const hanging = new Set<import('node:http').ServerResponse>()
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x')
    seen.push(url.pathname)
    if (url.pathname === '/hang') {
      hanging.add(response)
      return
    }
    if (url.pathname === '/redirect') {
      response.writeHead(302, { location: url.searchParams.get('to') ?? '/' })
      return response.end()
    }
    if (url.pathname === '/data.json') {
      response.writeHead(200, { 'content-type': 'application/json' })
      return response.end(JSON.stringify({ message: 'Fetched after load: otter' }))
    }
    if (url.pathname === '/result') {
      response.writeHead(200, { 'content-type': 'text/html' })
      const name = url.searchParams.get('name') ?? ''
      const color = url.searchParams.get('color') ?? ''
      return response.end(
        `<!doctype html><title>Result</title><p>Order for ${escapeHtml(name)} in colour ${escapeHtml(color)}</p>`,
      )
    }
    if (url.pathname === '/file.csv') {
      response.writeHead(200, { 'content-type': 'text/csv', 'content-disposition': 'attachment; filename="birds.csv"' })
      return response.end('bird,count\nwren,3\n')
    }
    if (url.pathname === '/paper.pdf') {
      response.writeHead(200, { 'content-type': 'application/pdf', 'content-length': pdf.byteLength })
      return response.end(pdf)
    }
    const page =
      PAGES[url.pathname] ??
      (url.pathname.startsWith('/workspace/') ? '<title>Deployed</title><p>A deployed page: lynx</p>' : undefined)
    if (page === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' })
      return response.end('not here')
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    response.end(page)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    seen,
    async close() {
      for (const response of hanging) response.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)
}

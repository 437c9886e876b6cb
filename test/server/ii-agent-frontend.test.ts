import { describe, expect, it } from 'vitest'
import type { TestServer } from '../helpers/berth-server.js'
import { PNG_1PX } from '../helpers/images.js'
import { connect, type Frame, type TestSocket } from '../helpers/ws-client.js'
import { runQuery, serverForFile } from './harness.js'

/**
 * Every request the reference ii-agent-chutes frontend makes (docs/ii-agent-compat.md), replayed in its exact
 * shape against a real berth child process. The frontend runs on its own origin: its page calls berth
 * cross-origin (an Origin header, no cookie, no X-Device-Id; the device id only in a path or the WebSocket
 * query), and its Next server's API routes call berth server-to-server (no Origin, no cookie).
 */

const FRONTEND = 'http://localhost:3000'
/** The reference frontend's default model (Chutes provider): its socket URL carries use_chutes=true&model_id=… */
const MODEL = 'deepseek-ai/DeepSeek-V3-0324'

interface Answer {
  status: number
  body: any
  headers: Headers
}

/** What the page's script gets: the answer, or `blocked` when the browser's CORS check would keep it from the page. */
type PageResult = ({ blocked: false } & Answer) | { blocked: true; reason: string; status: number; headers: Headers }

/**
 * fetch() from a page on `origin` as a browser does it (credentials mode same-origin, so cross-origin no cookie).
 * A JSON body makes the request non-simple: first the preflight, with the headers a browser sends, and the
 * request only if the preflight passes. The result is what the page may read, per the Fetch standard's CORS check.
 */
async function fromPage(
  base: string,
  path: string,
  init: { method?: 'GET' | 'POST'; json?: unknown; origin?: string } = {},
): Promise<PageResult> {
  const origin = init.origin ?? FRONTEND
  const method = init.method ?? (init.json === undefined ? 'GET' : 'POST')
  const headers: Record<string, string> = { origin }
  if (init.json !== undefined) {
    const pre = await preflight(base, path, method, ['content-type'], origin)
    const denied = preflightDenial(pre, origin, method, ['content-type'])
    if (denied) return { blocked: true, reason: `preflight: ${denied}`, status: pre.status, headers: pre.headers }
    headers['content-type'] = 'application/json'
  }
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
  })
  const answer = await read(response)
  const denied = corsDenial(answer.headers, origin)
  if (denied) return { blocked: true, reason: denied, status: answer.status, headers: answer.headers }
  return { blocked: false, ...answer }
}

/** The OPTIONS request a browser sends before a non-simple one: Origin, the method, the lower-case header names. */
function preflight(base: string, path: string, method: string, requestHeaders: string[], origin = FRONTEND) {
  return fetch(`${base}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': requestHeaders.join(','),
    },
  })
}

/** Why a browser would let the page read nothing (null when it may): the CORS check for a request without credentials. */
function corsDenial(headers: Headers, origin: string): string | null {
  const allowed = headers.get('access-control-allow-origin')
  if (allowed === null) return 'no Access-Control-Allow-Origin'
  if (allowed !== '*' && allowed !== origin) return `Access-Control-Allow-Origin is ${allowed}`
  return null
}

/** The preflight's own checks on top: an ok status, the method (unless safelisted) and every requested header allowed. */
function preflightDenial(response: Response, origin: string, method: string, requestHeaders: string[]): string | null {
  if (response.status < 200 || response.status > 299) return `status ${response.status}`
  const cors = corsDenial(response.headers, origin)
  if (cors) return cors
  const list = (name: string) =>
    (response.headers.get(name) ?? '')
      .split(',')
      .map((item) => item.trim().toLowerCase())
      .filter(Boolean)
  const methods = list('access-control-allow-methods')
  if (!['GET', 'HEAD', 'POST'].includes(method) && !methods.includes(method.toLowerCase()) && !methods.includes('*')) {
    return `method ${method} not allowed`
  }
  const allowedHeaders = list('access-control-allow-headers')
  const missing = requestHeaders.filter((name) => !allowedHeaders.includes(name) && !allowedHeaders.includes('*'))
  return missing.length > 0 ? `headers not allowed: ${missing.join(', ')}` : null
}

/**
 * The bodies the frontend's Next routes send berth for a path the page gives them (an absolute path under
 * workspaceInfo), by each route's own rule: list takes the last segment as the workspace; content the
 * second-to-last as the workspace and the last as the file; download and download-zip the segment after
 * the first literal `workspace`, and the rest as the path.
 */
const nextBodies = {
  list: (path: string) => ({ workspace_id: lastSegment(path), path: '' }),
  content: (path: string) => {
    const parts = path.replace(/\/+$/, '').split('/')
    return { workspace_id: parts.at(-2), path: parts.at(-1) }
  },
  download: (path: string) => {
    const parts = path.split('/')
    const at = parts.indexOf('workspace')
    return { workspace_id: parts[at + 1], path: parts.slice(at + 2).join('/') }
  },
}

/** A request from the frontend's Next server (app/api/**\/route.ts): JSON, no Origin, no cookie, no device. */
async function fromNextServer(base: string, path: string, init: { method?: 'GET' | 'POST'; json?: unknown } = {}) {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? 'POST',
    // The routes send this header on every call, the GET of maintenance_message included.
    headers: { 'content-type': 'application/json' },
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
  })
  return { response, bytes: Buffer.from(await response.arrayBuffer()) }
}

async function read(response: Response): Promise<Answer> {
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON
  }
  return { status: response.status, body, headers: response.headers }
}

/** Narrow a page result to a readable answer, failing with the browser's reason otherwise. */
function readable(result: PageResult): Answer {
  if (result.blocked) throw new Error(`the browser would block this answer (${result.status}): ${result.reason}`)
  return result
}

/** The reference frontend's socket URL (useWebSocketManager.ts) for its default Chutes model. */
function frontendSocketUrl(t: TestServer, deviceId: string): string {
  return t.wsUrl({ device_id: deviceId, use_chutes: 'true', model_id: MODEL })
}

/** A browser's WebSocket from the frontend's page: the handshake carries its Origin, and no cookie. */
function openFromPage(t: TestServer, deviceId: string): Promise<TestSocket> {
  return connect(frontendSocketUrl(t, deviceId), { Origin: FRONTEND })
}

const isReply = (frame: Frame) => frame.type === 'workspace_info' || frame.type === 'pong'

/** The frontend derives every workspace id from the last segment of workspace_info's path. */
const lastSegment = (path: string) => path.replace(/\/+$/, '').split('/').pop() as string

describe('the reference frontend against berth with BERTH_II_AGENT_COMPAT=true', () => {
  const server = serverForFile({
    BERTH_II_AGENT_COMPAT: 'true',
    BERTH_CORS_ORIGINS: FRONTEND,
    // The GAIA request must find no dataset and fetch none.
    BERTH_GAIA_DATA: undefined,
    HF_TOKEN: undefined,
    HUGGING_FACE_HUB_TOKEN: undefined,
  })
  const base = () => server().server.url
  const DEVICE = '0b9e7c1e-5d7f-4a8e-9f3c-2a6d4b1e8c70'
  const PROMPT = 'Make me a one-page site about the attached notes'
  const NOTES = 'Meeting at noon.\n'
  /** Filled in by the chat flow, read by the tests after it (they run in order). */
  const chat = { sessionId: '', workspacePath: '', deployedUrl: '', summary: '' }

  it('a new chat as the page runs it: socket, workspace_info, upload before the first query, query with files, answer', async () => {
    const t = server()
    const socket = await openFromPage(t, DEVICE)
    const hello = await socket.next('connection_established')
    const sessionId = hello.content.session_uuid as string
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/)

    // On open the page asks for the workspace, and pings; workspace_info also marks the socket ready.
    socket.send({ type: 'workspace_info_request', content: {} })
    socket.send({ type: 'ping', content: {} })
    // The two answers come in either order (pong at once, workspace_info after a store lookup).
    const replies = [await socket.next(isReply), await socket.next(isReply)]
    expect(replies.map((f) => f.type).sort()).toEqual(['pong', 'workspace_info'])
    expect(replies.find((f) => f.type === 'pong')).toEqual({ type: 'pong' })
    const info = replies.find((f) => f.type === 'workspace_info') as Frame
    const workspacePath = info.content.workspace_path as string
    expect(lastSegment(workspacePath)).toBe(sessionId)
    // The Next download routes take the segment after the first literal `workspace` as the id.
    const segments = workspacePath.split('/')
    expect(segments[segments.indexOf('workspace') + 1]).toBe(sessionId)

    // Upload (handleFileUpload): session_id is the last segment of the workspace path, before any query.
    const uploadOf = (name: string, content: string) =>
      fromPage(base(), '/api/upload', {
        json: { session_id: lastSegment(workspacePath), file: { path: name, content } },
      })
    const notes = readable(
      await uploadOf('notes.txt', `data:text/plain;base64,${Buffer.from(NOTES).toString('base64')}`),
    )
    expect(notes.status).toBe(200)
    expect(notes.body.file.path).toBe('/uploaded_files/notes.txt')
    const image = readable(await uploadOf('dot.png', `data:image/png;base64,${PNG_1PX.toString('base64')}`))
    expect(image.status).toBe(200)
    expect(image.body.file.path).toBe('/uploaded_files/dot.png')

    t.llm.enqueue(
      {
        toolCalls: [
          {
            name: 'str_replace_editor',
            arguments: { command: 'create', path: 'site/index.html', file_text: '<h1>Notes</h1>\n' },
          },
        ],
      },
      {
        toolCalls: [
          { name: 'str_replace_editor', arguments: { command: 'create', path: 'summary.md', file_text: '# Notes\n' } },
        ],
      },
      { toolCalls: [{ name: 'static_deploy', arguments: { file_path: 'site' } }] },
      { text: 'Your site is up.' },
    )
    const firstRequest = t.llm.requests.length
    // handleQuestionSubmit: files are the upload paths without their leading slash.
    socket.send({
      type: 'query',
      content: {
        text: PROMPT,
        resume: false,
        files: [notes.body.file.path, image.body.file.path].map((file: string) => file.replace(/^\//, '')),
        tool_args: { deep_research: false, pdf: true, media_generation: true, audio_generation: true, browser: true },
      },
    })
    await socket.next('processing')
    const toolCall = await socket.next('tool_call')
    expect(toolCall.content).toMatchObject({ tool_name: 'str_replace_editor' })
    // file_edit fills the editor's cache under `${workspaceInfo}/${path}` unless the path already contains it.
    const edit = await socket.next('file_edit')
    expect(edit.content).toMatchObject({ path: 'site/index.html', content: '<h1>Notes</h1>\n' })
    // The Website tab: a static_deploy result that starts with http is loaded whole in an iframe.
    const deploy = await socket.next((f) => f.type === 'tool_result' && f.content.tool_name === 'static_deploy')
    expect(deploy.content.result).toBe(`${base()}/workspace/${sessionId}/site/`)
    const answer = await socket.next('agent_response')
    expect(answer.content.text).toBe('Your site is up.')
    await socket.next('stream_complete')
    // The model was told about both uploads, and was shown the image.
    const first = JSON.stringify(t.llm.requests[firstRequest]?.body.messages)
    expect(first).toContain('uploaded_files/notes.txt')
    expect(first).toContain(PNG_1PX.toString('base64'))
    await socket.close()
    Object.assign(chat, { sessionId, workspacePath, deployedUrl: deploy.content.result as string })
  })

  it('the Website tab can frame the deployed site, and <img> can load workspace files from another origin', async () => {
    expect(chat.deployedUrl).not.toBe('')
    const site = await fetch(chat.deployedUrl)
    expect(site.status).toBe(200)
    expect(await site.text()).toBe('<h1>Notes</h1>\n')
    // Nothing that keeps a page on another origin from framing it.
    expect(site.headers.get('x-frame-options')).toBeNull()
    expect(site.headers.get('content-security-policy') ?? '').not.toContain('frame-ancestors')

    // home.tsx getRemoteURL: `${API}/workspace/${last segment of workspaceInfo}/${path}`, loaded by <img> (no CORS).
    const image = await fetch(`${base()}/workspace/${lastSegment(chat.workspacePath)}/uploaded_files/dot.png`)
    expect(image.status).toBe(200)
    expect(image.headers.get('content-type')).toBe('image/png')
    expect(Buffer.from(await image.arrayBuffer())).toEqual(PNG_1PX)
    expect(image.headers.get('cross-origin-resource-policy') ?? 'cross-origin').toBe('cross-origin')
  })

  it('after the first answer: generate-summary, then the summary saved on the session', async () => {
    expect(chat.sessionId).not.toBe('')
    server().llm.enqueue({ text: 'One-page notes site' })
    const generated = readable(
      await fromPage(base(), '/api/generate-summary', { json: { message: PROMPT, modelId: MODEL } }),
    )
    expect(generated.status).toBe(200)
    // The page shows `summary || "Task in progress"`: the model's few words.
    expect(generated.body.summary).toBe('One-page notes site')
    chat.summary = generated.body.summary

    const saved = readable(
      await fromPage(base(), `/api/sessions/${chat.sessionId}/summary`, { json: { summary: chat.summary } }),
    )
    expect(saved.status).toBe(200)
  })

  it('the sessions drawer lists the device by the id in the path, with the fields it shows', async () => {
    expect(chat.summary, 'needs the summary of the test before').not.toBe('')
    const listed = readable(await fromPage(base(), `/api/sessions/${DEVICE}`))
    expect(listed.status).toBe(200)
    const session = (listed.body.sessions as any[]).find((s) => s.id === chat.sessionId)
    expect(session).toMatchObject({ id: chat.sessionId, first_message: PROMPT, summary: chat.summary })
    // dayjs(created_at): a zoned timestamp, so the drawer shows local time (the reference's naive one was shifted).
    expect(session.created_at).toMatch(/(Z|[+-]\d\d:\d\d)$/)
    expect(Number.isNaN(new Date(session.created_at).getTime())).toBe(false)
  })

  it('replays /?id=<session>: events by id, workspace from events[0].workspace_dir, payloads the page can handle', async () => {
    const replay = readable(await fromPage(base(), `/api/sessions/${chat.sessionId}/events`))
    expect(replay.status).toBe(200)
    const events = replay.body.events as any[]
    // The page reads one page only: the whole session must be on it.
    expect(replay.body.total_count).toBe(events.length)
    expect(lastSegment(events[0].workspace_dir)).toBe(chat.sessionId)
    // handleEvent({...event_payload, id}) switches on type and reads content.
    const handled = events.map((event) => ({ ...event.event_payload, id: event.id }))
    expect(handled[0]).toMatchObject({
      type: 'user_message',
      content: { text: PROMPT, files: ['uploaded_files/notes.txt', 'uploaded_files/dot.png'] },
    })
    const deploy = handled.find((e) => e.type === 'tool_result' && e.content.tool_name === 'static_deploy')
    expect(deploy?.content.result).toBe(chat.deployedUrl)
    expect(handled.find((e) => e.type === 'agent_response')?.content.text).toBe('Your site is up.')
    for (const event of handled) expect(typeof event.id).toBe('string')
    expect(new Set(handled.map((e) => e.id)).size).toBe(handled.length)
  })

  it("the Next server's file routes: list, content, download and download-zip by {workspace_id, path}", async () => {
    // The Code tab posts workspaceInfo to the Next route, which lists from the root of the last segment.
    const list = await fromNextServer(base(), '/api/files/list', { json: nextBodies.list(chat.workspacePath) })
    expect(list.response.status).toBe(200)
    const files = JSON.parse(list.bytes.toString()).files as any[]
    const byName = Object.fromEntries(files.map((node) => [node.name, node]))
    expect(byName.site).toMatchObject({ type: 'folder', path: 'site' })
    expect(byName.site.children).toEqual([
      expect.objectContaining({ name: 'index.html', type: 'file', path: 'site/index.html' }),
    ])
    expect(byName['summary.md']).toMatchObject({ type: 'file', path: 'summary.md' })
    expect(typeof byName['summary.md'].language).toBe('string')
    // The route hands the page `${workspaceInfo}/${path}`; the page opens and downloads by those paths.
    const pagePath = (node: { path: string }) => `${chat.workspacePath}/${node.path}`

    const content = await fromNextServer(base(), '/api/files/content', {
      json: nextBodies.content(pagePath(byName['summary.md'])),
    })
    expect(content.response.status).toBe(200)
    expect(JSON.parse(content.bytes.toString()).content).toBe('# Notes\n')

    const download = await fromNextServer(base(), '/api/files/download', {
      json: nextBodies.download(pagePath(byName.site.children[0])),
    })
    expect(download.response.status).toBe(200)
    expect(download.bytes.toString()).toBe('<h1>Notes</h1>\n')
    // The route takes the name with /filename="?([^"]+)"?/.
    expect(download.response.headers.get('content-disposition')?.match(/filename="?([^"]+)"?/)?.[1]).toBe('index.html')

    for (const folder of [chat.workspacePath, pagePath(byName.site)]) {
      const zip = await fromNextServer(base(), '/api/files/download-zip', { json: nextBodies.download(folder) })
      expect(zip.response.status, folder).toBe(200)
      expect(zip.response.headers.get('content-type')).toBe('application/zip')
      expect(zip.bytes.subarray(0, 2).toString()).toBe('PK')
      expect(zip.response.headers.get('content-disposition')).toMatch(/filename="?[^"]+\.zip"?/)
    }
  })

  it("the content route's nested-file bug: the folder name arrives as workspace_id, and berth reads nothing else", async () => {
    const body = nextBodies.content(`${chat.workspacePath}/site/index.html`)
    expect(body).toEqual({ workspace_id: 'site', path: 'index.html' })
    const nested = await fromNextServer(base(), '/api/files/content', { json: body })
    expect(nested.response.status).toBe(404)
    expect(JSON.parse(nested.bytes.toString()).code).toBe('SESSION_NOT_FOUND')
  })

  it("the Next server's maintenance_message: a message or null", async () => {
    const { response, bytes } = await fromNextServer(base(), '/api/maintenance_message', { method: 'GET' })
    expect(response.status).toBe(200)
    expect(JSON.parse(bytes.toString())).toEqual({ message: null })
  })

  it('POST /api/transcribe without a transcription provider is 503, readable by the page, so it falls back to its own Next route', async () => {
    const result = readable(await fromPage(base(), '/api/transcribe', { json: { audio_b64: 'AAAA' } }))
    expect(result.status).toBe(503)
    // The page calls response.json() on the failure before it falls back.
    expect(result.body.code).toBe('MEDIA_NOT_CONFIGURED')
    expect(result.body.error).toMatch(/^No transcription provider is configured/)
  })

  it('answers the preflight of each JSON POST of the page with what the browser needs, and no credentials needed', async () => {
    for (const path of ['/api/upload', '/api/generate-summary', `/api/sessions/${chat.sessionId}/summary`]) {
      const pre = await preflight(base(), path, 'POST', ['content-type'])
      expect(preflightDenial(pre, FRONTEND, 'POST', ['content-type']), path).toBeNull()
      expect(pre.headers.get('access-control-allow-origin'), path).toBe(FRONTEND)
      expect(pre.headers.get('vary') ?? '', path).toMatch(/origin/i)
    }
  })

  it('the Stop button: cancel_processing ends the run and the next query on the same socket is answered', async () => {
    const t = server()
    const socket = await openFromPage(t, DEVICE)
    await socket.next('connection_established')
    socket.send({ type: 'workspace_info_request', content: {} })
    await socket.next('workspace_info')
    t.llm.enqueue({ text: 'Working on it', hang: true }, { text: 'Fresh answer' })
    socket.send({ type: 'query', content: { text: 'A long task', resume: false, files: [], tool_args: {} } })
    await socket.next('agent_response_delta')
    // handleStopAgent: the page turns its spinner off by itself and reads no answer.
    socket.send({ type: 'cancel_processing', content: {} })
    expect((await socket.next('stream_complete')).content.status).toBe('interrupted')
    expect(socket.frames.some((f) => f.type === 'error')).toBe(false)
    // The next question goes to the same socket with resume: true.
    socket.send({ type: 'query', content: { text: 'Something short', resume: true, files: [], tool_args: {} } })
    expect((await socket.next('agent_response')).content.text).toBe('Fresh answer')
    await socket.next('stream_complete')
    // The Terminal tab without BERTH_ENABLE_TERMINAL: an error frame, whose message the page toasts.
    socket.send({ type: 'terminal_command', content: { command: 'ls' } })
    const refused = await socket.next('error')
    expect(refused.content.error_code).toBe('BASH_TOOL_UNAVAILABLE')
    expect(typeof refused.content.message).toBe('string')
    await socket.close()
  })

  it('an upload sent before workspace_info arrived (session_id "") is refused, readably', async () => {
    const early = readable(
      await fromPage(base(), '/api/upload', { json: { session_id: '', file: { path: 'a.txt', content: 'a' } } }),
    )
    expect(early.status).toBe(400)
    expect(early.body.code).toBe('INVALID_REQUEST')
  })

  it("the GAIA page's POST /api/gaia/run (commented out in the reference) gets a readable answer", async () => {
    const run = readable(
      await fromPage(base(), '/api/gaia/run', {
        json: {
          set_to_run: 'validation',
          run_name: 'gaia-run-1',
          max_tasks: 1,
          model_id: MODEL,
          model_provider: 'chutes',
        },
      }),
    )
    // No dataset on this server: the page would throw on !ok; data.status and data.message say why.
    expect(run.status).toBe(404)
    expect(run.body).toMatchObject({ status: 'error', code: 'EVAL_DATASET_NOT_FOUND' })
    expect(typeof run.body.message).toBe('string')
  })

  it('gives an unlisted origin and Origin: null nothing to read, preflight included', async () => {
    for (const origin of ['http://evil.example', 'null']) {
      const listing = await fromPage(base(), `/api/sessions/${DEVICE}`, { origin })
      expect(listing.blocked, origin).toBe(true)
      const events = await fromPage(base(), `/api/sessions/${chat.sessionId}/events`, { origin })
      expect(events.blocked, origin).toBe(true)
      const pre = await preflight(base(), '/api/upload', 'POST', ['content-type'], origin)
      expect(pre.headers.get('access-control-allow-origin'), origin).toBeNull()
      const upload = await fromPage(base(), '/api/upload', {
        origin,
        json: { session_id: chat.sessionId, file: { path: 'x.txt', content: 'x' } },
      })
      expect(upload).toMatchObject({ blocked: true })
    }
  })
})

describe('the same requests with BERTH_II_AGENT_COMPAT off', () => {
  const server = serverForFile({ BERTH_CORS_ORIGINS: FRONTEND })
  const base = () => server().server.url
  const DEVICE = 'a3c1f0de-8e2b-4c55-b1d7-6f0e9a2c4b18'

  it('refuses the page its device list, a session by id and uploads: it sends no device id', async () => {
    const sessionId = await runQuery(server(), DEVICE, 'Hello there', 'Hi.', { use_chutes: 'true', model_id: MODEL })

    // The refusals carry CORS headers, so the page reads why.
    const listing = readable(await fromPage(base(), `/api/sessions/${DEVICE}`))
    expect(listing.status).toBe(403)
    expect(listing.body.code).toBe('ACCESS_DENIED')
    const events = readable(await fromPage(base(), `/api/sessions/${sessionId}/events`))
    expect(events.status).toBe(403)
    expect(events.body.code).toBe('ACCESS_DENIED')
    const summary = readable(
      await fromPage(base(), `/api/sessions/${sessionId}/summary`, { json: { summary: 'Mine now' } }),
    )
    expect(summary.status).toBe(403)

    const file = { path: 'notes.txt', content: 'hello' }
    const existing = readable(await fromPage(base(), '/api/upload', { json: { session_id: sessionId, file } }))
    expect(existing.status).toBe(403)
    const fresh = readable(
      await fromPage(base(), '/api/upload', { json: { session_id: 'c0ffee00-1111-4222-8333-944445555666', file } }),
    )
    expect(fresh.status).toBe(400)
    expect(fresh.body.code).toBe('INVALID_REQUEST')

    // The Next server's file routes send no device either.
    const list = await fromNextServer(base(), '/api/files/list', { json: { workspace_id: sessionId, path: '' } })
    expect(list.response.status).toBe(403)
  })

  it('still answers a client that presents the device id (an API client, not the page)', async () => {
    const sessionId = await runQuery(server(), DEVICE, 'Second chat', 'Sure.')
    const response = await fetch(`${base()}/api/sessions/${DEVICE}`, { headers: { 'x-device-id': DEVICE } })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { sessions: { id: string }[] }
    expect(body.sessions.map((s) => s.id)).toContain(sessionId)
  })

  it('gives an unlisted origin and Origin: null no Access-Control-Allow-Origin, preflight included', async () => {
    for (const origin of ['http://evil.example', 'null']) {
      const pre = await preflight(base(), '/api/upload', 'POST', ['content-type'], origin)
      expect(pre.headers.get('access-control-allow-origin'), origin).toBeNull()
      expect(preflightDenial(pre, origin, 'POST', ['content-type']), origin).not.toBeNull()
      const listing = await fromPage(base(), `/api/sessions/${DEVICE}`, { origin })
      expect(listing.blocked, origin).toBe(true)
      expect(listing.headers.get('access-control-allow-credentials'), origin).toBeNull()
    }
  })
})

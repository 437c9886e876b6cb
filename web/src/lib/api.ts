import {
  type EvalRunDetail,
  type EvalRunList,
  type EventPage,
  type FileContent,
  type FileNode,
  type Frame,
  frameOfApiEvent,
  type ModelCatalog,
  type ReadyReport,
  type SessionPage,
  type SessionSummary,
  type SharedSession,
  type ShareInfo,
} from './api-types.js'
import { deviceId } from './device-id.js'

/** An API failure with the server's `{code, message}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * JSON request to the berth server, with this device's id, failing with an
 * `ApiError` that carries the server's code (or `NETWORK`).
 *
 * @example
 *   const page = await api<SessionPage>(`/api/sessions/${id}`)
 */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { 'x-device-id': deviceId(), accept: 'application/json' }
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  let response: Response
  try {
    response = await fetch(path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      credentials: 'same-origin',
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal ? { signal: init.signal } : {}),
    })
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached.')
  }
  const text = await response.text()
  let data: unknown = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    // a proxy's HTML error page: fall through with the status
  }
  if (!response.ok) {
    // `error` alone: the reference's shape, which some routes (POST /api/transcribe) keep.
    const body = (data ?? {}) as { code?: string; message?: string; detail?: string; error?: unknown }
    throw new ApiError(
      response.status,
      body.code ?? `HTTP_${response.status}`,
      body.message ??
        body.detail ??
        (typeof body.error === 'string' ? body.error : null) ??
        `${response.status} ${response.statusText}`,
    )
  }
  return data as T
}

const enc = encodeURIComponent

export const sessionsApi = {
  list: (cursor: string | null, limit = 30) =>
    api<SessionPage>(`/api/sessions/${enc(deviceId())}?limit=${limit}${cursor ? `&cursor=${enc(cursor)}` : ''}`),
  info: (id: string) => api<{ session: SessionSummary; running: boolean }>(`/api/sessions/${enc(id)}/info`),
  events: (id: string, after: number, limit = 1000) =>
    api<EventPage>(`/api/sessions/${enc(id)}/events?after=${after}&limit=${limit}`),
  rename: (id: string, name: string) =>
    api<{ session: SessionSummary }>(`/api/sessions/${enc(id)}`, { method: 'PATCH', body: { name } }),
  remove: (id: string) => api<{ deleted: boolean }>(`/api/sessions/${enc(id)}`, { method: 'DELETE' }),
  share: (id: string) => api<{ share: ShareInfo; reused: boolean }>(`/api/sessions/${enc(id)}/share`, { body: {} }),
}

export const shareApi = {
  info: (token: string) => api<SharedSession>(`/api/share/${enc(token)}`),
  events: (token: string, after: number, limit = 1000) =>
    api<EventPage>(`/api/share/${enc(token)}/events?after=${after}&limit=${limit}`),
}

/**
 * Every stored event of a session, page by page (no 1000-event cap), as the
 * frames the socket would have sent.
 *
 * @example
 *   const frames = await allFrames((after) => shareApi.events(token, after))
 */
export async function allFrames(page: (after: number) => Promise<EventPage>): Promise<Frame[]> {
  const frames: Frame[] = []
  let after = 0
  for (;;) {
    const next = await page(after)
    frames.push(...next.events.map(frameOfApiEvent))
    if (next.next_after === null || next.events.length === 0) return frames
    after = next.next_after
  }
}

export const serverApi = {
  models: () => api<ModelCatalog>('/api/models'),
  /** `/readyz` answers 503 with the same body when not ready; the indicator wants the body either way. */
  ready: async (): Promise<ReadyReport> => {
    const response = await fetch('/readyz', { headers: { accept: 'application/json' } })
    return (await response.json()) as ReadyReport
  },
}

/** Which media providers the server has (src/server/routes/media.ts). */
export interface MediaCapabilities {
  image: boolean
  speech: boolean
  transcription: boolean
  video: boolean
}

export const mediaApi = {
  capabilities: () => api<MediaCapabilities>('/api/media'),
  /** The reference's route and shape: the recording as base64, the text back. */
  transcribe: (audioBase64: string, signal?: AbortSignal) =>
    api<{ transcription: string }>('/api/transcribe', {
      body: { audio_b64: audioBase64 },
      ...(signal ? { signal } : {}),
    }),
}

/** GAIA runs in the server (src/server/routes/eval.ts). */
export const evalApi = {
  runs: () => api<EvalRunList>('/api/eval/runs'),
  run: (name: string) => api<EvalRunDetail>(`/api/eval/runs/${enc(name)}`),
  /** The reference's route; `wait: false` answers at once with the new run's name. */
  start: (body: { set_to_run: string; run_name: string; max_tasks: number; model_id?: string; concurrency: number }) =>
    api<{ status: string; run_name: string; planned: number }>('/api/gaia/run', { body: { ...body, wait: false } }),
  stop: (name: string) => api<EvalRunDetail>(`/api/eval/runs/${enc(name)}/stop`, { method: 'POST', body: {} }),
  /** A read-only share link to a task's session (eval sessions belong to no browser's device). */
  replay: (name: string, sessionId: string) =>
    api<{ share: ShareInfo; path: string }>(`/api/eval/runs/${enc(name)}/sessions/${enc(sessionId)}/share`, {
      method: 'POST',
      body: {},
    }),
}

/** Where a workspace's files come from: the owner's file routes, or a share link's read-only ones. */
export interface FileSource {
  list(path: string): Promise<FileNode[]>
  content(path: string): Promise<FileContent>
  /** A URL that downloads the file, or null when the source cannot (then the viewer builds a blob). */
  downloadUrl(path: string): string | null
  /**
   * The file's bytes by URL, answering `Range`: what `<img>`, `<audio>` and
   * `<video>` load (the browser sends the device cookie; a share link needs nothing).
   */
  fileUrl(path: string): string
  zipUrl(): string | null
}

export function ownerFiles(sessionId: string): FileSource {
  return {
    list: async (path) =>
      (await api<{ files: FileNode[] }>('/api/files/list', { body: { workspace_id: sessionId, path, depth: 1 } }))
        .files,
    content: (path) => api<FileContent>('/api/files/content', { body: { workspace_id: sessionId, path } }),
    downloadUrl: (path) => `/api/files/download?workspace_id=${enc(sessionId)}&path=${enc(path)}`,
    fileUrl: (path) => `/api/files/download?workspace_id=${enc(sessionId)}&path=${enc(path)}`,
    zipUrl: () => `/api/files/download-zip?workspace_id=${enc(sessionId)}`,
  }
}

export function sharedFiles(token: string): FileSource {
  const base = `/api/share/${enc(token)}/files`
  return {
    list: async (path) => (await api<{ files: FileNode[] }>(`${base}/list`, { body: { path, depth: 1 } })).files,
    content: (path) => api<FileContent>(`${base}/content`, { body: { path } }),
    downloadUrl: (path) => `${base}/download?path=${enc(path)}`,
    fileUrl: (path) => `${base}/download?path=${enc(path)}`,
    zipUrl: () => null,
  }
}

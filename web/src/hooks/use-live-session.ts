import { useCallback, useEffect, useRef, useState } from 'react'
import { ApiError, allFrames, sessionsApi } from '../lib/api.js'
import type { Frame } from '../lib/api-types.js'
import { deviceId } from '../lib/device-id.js'
import { type FriendlyError, friendlyError } from '../lib/friendly-error.js'
import { SessionSocket, type SocketStatus } from '../lib/session-socket.js'
import { sessionsChanged } from '../routes.js'
import { addLocalUserMessage, applyFrames } from '../state/chat-reducer.js'
import { type ChatState, emptyChat } from '../state/chat-state.js'
import { useFrameBatcher } from './use-frame-batcher.js'

export interface LiveSession {
  state: ChatState
  /** The session on screen: the address's, or the one the server allocated for a new chat. */
  sessionId: string | null
  /** The session's name or summary, when it has one. */
  title: string | null
  /** Whether the session exists on the server (after the first message or upload). */
  exists: boolean
  status: SocketStatus
  loading: boolean
  loadError: FriendlyError | null
  /** Bumped whenever the workspace may have changed (tool results, file edits, uploads, run end). */
  filesVersion: number
  send(text: string, files: string[]): void
  cancel(): void
  /** Call after an upload created or filled the session. */
  markExists(): void
  touchFiles(): void
}

const FILE_EVENTS = new Set(['tool_result', 'file_edit', 'stream_complete'])

/**
 * The owner's view of one session: loads its whole history page by page,
 * then continues it over the socket with `session_uuid` and `after=<last
 * seq>` (the reference could only replay). With no id, the server allocates
 * one; `onExists` fires once the session is real, to put it in the address.
 *
 * @example
 *   const live = useLiveSession(route.sessionId, modelId, (id) => navigate(`/session/${id}`, { replace: true }))
 */
export function useLiveSession(
  wantedId: string | null,
  modelId: string | null,
  onExists: (id: string) => void,
): LiveSession {
  const chat = useFrameBatcher()
  const [status, setStatus] = useState<SocketStatus>('connecting')
  const [loading, setLoading] = useState(false)
  const [loadError, setLoadError] = useState<FriendlyError | null>(null)
  const [sessionId, setSessionId] = useState<string | null>(wantedId)
  const [exists, setExists] = useState(wantedId !== null)
  const [filesVersion, setFilesVersion] = useState(0)
  const [title, setTitle] = useState<string | null>(null)
  const held = useRef<{ id: string | null; socket: SessionSocket | null; exists: boolean }>({
    id: null,
    socket: null,
    exists: false,
  })
  const model = useRef(modelId)
  const existsCallback = useRef(onExists)
  existsCallback.current = onExists

  const markExists = useCallback(() => {
    const id = held.current.id
    if (held.current.exists || id === null) return
    held.current.exists = true
    setExists(true)
    existsCallback.current(id)
  }, [])

  const touchFiles = useCallback(() => setFilesVersion((v) => v + 1), [])

  const onFrame = useCallback(
    (frame: Frame) => {
      if (frame.type === 'connection_established') {
        const id = (frame.content as { session_uuid?: string } | undefined)?.session_uuid
        if (id && held.current.id === null) {
          held.current.id = id
          setSessionId(id)
        }
      }
      if (frame.type === 'processing') markExists()
      if (FILE_EVENTS.has(frame.type)) touchFiles()
      // The drawer shows status and title, both settled when a run ends.
      if (frame.type === 'stream_complete') sessionsChanged()
      chat.push(frame)
    },
    [chat.push, markExists, touchFiles],
  )

  const openSocket = useCallback(() => {
    const socket = new SessionSocket({
      params: () => {
        const id = held.current.id
        return {
          device_id: deviceId(),
          session_uuid: id ?? undefined,
          // A first connect to a new session needs no cursor; every later one resumes after the last seq seen.
          after: id === null ? undefined : chat.current().lastSeq,
          model_id: model.current ?? undefined,
        }
      },
      onFrame,
      onStatus: setStatus,
    })
    held.current.socket = socket
    socket.connect()
  }, [chat.current, onFrame])

  useEffect(() => {
    // Adopting the id the server gave this chat changes the address, not the session: keep everything.
    if (wantedId !== null && wantedId === held.current.id && held.current.socket) return
    held.current.socket?.close()
    held.current = { id: wantedId, socket: null, exists: wantedId !== null }
    setSessionId(wantedId)
    setExists(wantedId !== null)
    setLoadError(null)
    setTitle(null)
    chat.replace(emptyChat)
    if (wantedId === null) {
      openSocket()
      return
    }
    let cancelled = false
    setLoading(true)
    loadHistory(wantedId)
      .then(({ frames, title }) => {
        if (cancelled) return
        setTitle(title)
        chat.replace(applyFrames(emptyChat, frames))
        openSocket()
      })
      .catch((error: unknown) => {
        if (cancelled) return
        const e = error instanceof ApiError ? error : new ApiError(0, 'NETWORK', String(error))
        setLoadError(friendlyError(e.code, e.message))
        setStatus('closed')
      })
      .finally(() => !cancelled && setLoading(false))
    return () => {
      cancelled = true
    }
  }, [wantedId, openSocket, chat.replace])

  useEffect(() => () => held.current.socket?.close(), [])

  // The model is a connection parameter: reconnect (resuming after the last seq) when it changes.
  useEffect(() => {
    if (model.current === modelId) return
    model.current = modelId
    const socket = held.current.socket
    if (!socket) return
    socket.close()
    openSocket()
  }, [modelId, openSocket])

  const send = useCallback(
    (text: string, files: string[]) => {
      chat.replace((state) => addLocalUserMessage(state, text, files))
      held.current.socket?.send({ type: 'query', content: { text, files } })
    },
    [chat.replace],
  )
  const cancel = useCallback(() => held.current.socket?.send({ type: 'cancel', content: {} }), [])

  return {
    state: chat.state,
    sessionId,
    title,
    exists,
    status,
    loading,
    loadError,
    filesVersion,
    send,
    cancel,
    markExists,
    touchFiles,
  }
}

/** Every stored event of a session, page by page (no 1000-event cap), as frames; running state from `/info`. */
async function loadHistory(id: string): Promise<{ frames: Frame[]; title: string | null }> {
  const info = await sessionsApi.info(id)
  const frames = await allFrames((after) => sessionsApi.events(id, after))
  frames.push({ type: 'connection_established', content: { running: info.running } })
  return { frames, title: info.session.name ?? info.session.summary ?? null }
}

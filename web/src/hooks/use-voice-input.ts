import { useCallback, useEffect, useRef, useState } from 'react'
import { ApiError, mediaApi } from '../lib/api.js'
import { type FriendlyError, friendlyError } from '../lib/friendly-error.js'

export type VoiceState = 'idle' | 'starting' | 'recording' | 'sending'

/** A recording stops by itself after this long, so it stays well under the server's body limit. */
export const MAX_RECORDING_MS = 5 * 60_000

/**
 * Whether the server can transcribe (`GET /api/media`); false when it says
 * not, or cannot be asked (an older server answers 404): then there is no
 * microphone button.
 */
export function useCanTranscribe(): boolean {
  const [can, setCan] = useState(false)
  useEffect(() => {
    let live = true
    mediaApi
      .capabilities()
      .then((media) => live && setCan(media.transcription === true))
      .catch(() => live && setCan(false))
    return () => {
      live = false
    }
  }, [])
  return can
}

/**
 * Voice input: record with MediaRecorder, send the recording to
 * `POST /api/transcribe` as base64, hand the text to `onTranscript`. An
 * error (microphone refused or missing, the server failing) is kept for the
 * composer to show; nothing the user typed is touched.
 */
export function useVoiceInput(onTranscript: (text: string) => void) {
  const [state, setState] = useState<VoiceState>('idle')
  const [error, setError] = useState<FriendlyError | null>(null)
  const recorder = useRef<MediaRecorder | null>(null)
  const abort = useRef<AbortController | null>(null)
  const limit = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const deliver = useRef(onTranscript)
  deliver.current = onTranscript

  const send = useCallback(async (recording: Blob) => {
    setState('sending')
    const controller = new AbortController()
    abort.current = controller
    try {
      const { transcription } = await mediaApi.transcribe(await base64Of(recording), controller.signal)
      const text = (transcription ?? '').trim()
      if (text === '') setError(noSpeech())
      else deliver.current(text)
    } catch (e) {
      if ((e as Error).name === 'AbortError') return
      const err = e instanceof ApiError ? e : new ApiError(0, 'NETWORK', String(e))
      setError(friendlyError(err.code, err.message))
    } finally {
      if (abort.current === controller) abort.current = null
      setState('idle')
    }
  }, [])

  const start = useCallback(async () => {
    setError(null)
    if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') {
      setError(friendlyError('MIC_UNSUPPORTED', 'This browser cannot record here.'))
      return
    }
    setState('starting')
    let stream: MediaStream
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true })
    } catch (e) {
      setState('idle')
      setError(microphoneError(e))
      return
    }
    const type = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'].find((t) =>
      MediaRecorder.isTypeSupported(t),
    )
    const rec = new MediaRecorder(stream, type ? { mimeType: type } : undefined)
    const chunks: Blob[] = []
    rec.ondataavailable = (event) => {
      if (event.data.size > 0) chunks.push(event.data)
    }
    rec.onstop = () => {
      clearTimeout(limit.current)
      for (const track of stream.getTracks()) track.stop()
      recorder.current = null
      const recording = new Blob(chunks, { type: rec.mimeType || 'audio/webm' })
      if (recording.size === 0) {
        setState('idle')
        setError(noSpeech())
      } else void send(recording)
    }
    recorder.current = rec
    rec.start()
    setState('recording')
    limit.current = setTimeout(() => rec.state !== 'inactive' && rec.stop(), MAX_RECORDING_MS)
  }, [send])

  const stop = useCallback(() => {
    const rec = recorder.current
    if (rec && rec.state !== 'inactive') rec.stop()
  }, [])

  // Leaving the page: stop the microphone and forget a pending answer.
  useEffect(
    () => () => {
      clearTimeout(limit.current)
      const rec = recorder.current
      if (rec) {
        rec.onstop = null
        if (rec.state !== 'inactive') rec.stop()
        for (const track of rec.stream.getTracks()) track.stop()
      }
      abort.current?.abort()
    },
    [],
  )

  return { state, error, start, stop, dismiss: () => setError(null) }
}

function microphoneError(error: unknown): FriendlyError {
  const name = (error as { name?: string })?.name
  const message = error instanceof Error ? error.message : String(error)
  if (name === 'NotAllowedError' || name === 'SecurityError') return friendlyError('MIC_DENIED', message)
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return friendlyError('MIC_MISSING', message)
  if (name === 'NotReadableError') return friendlyError('MIC_BUSY', message)
  return friendlyError(null, message)
}

function noSpeech(): FriendlyError {
  return friendlyError('NO_SPEECH', 'The recording came back without any words.')
}

/** The blob's bytes as plain base64 (no `data:` prefix), as the route expects. */
function base64Of(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => {
      const url = String(reader.result)
      resolve(url.slice(url.indexOf(',') + 1))
    }
    reader.onerror = () => reject(reader.error ?? new Error('Could not read the recording'))
    reader.readAsDataURL(blob)
  })
}

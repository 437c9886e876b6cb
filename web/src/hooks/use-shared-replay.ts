import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { ApiError, allFrames, shareApi } from '../lib/api.js'
import type { Frame, SharedSession } from '../lib/api-types.js'
import { type FriendlyError, friendlyError } from '../lib/friendly-error.js'
import { SessionSocket, type SocketStatus } from '../lib/session-socket.js'
import { buildTimeline, playedAt, type ReplaySpeed, type Timeline } from '../replay/timeline.js'
import { usePlayback } from '../replay/use-playback.js'
import { applyFrames } from '../state/chat-reducer.js'
import { type ChatState, emptyChat } from '../state/chat-state.js'

export interface SharedReplay {
  info: SharedSession | null
  loadError: FriendlyError | null
  loading: boolean
  /** The chat as of the replay position. */
  state: ChatState
  /** The chat with every event loaded (for "written later" hints). */
  finalState: ChatState
  events: Frame[]
  timeline: Timeline
  position: number
  playing: boolean
  speed: ReplaySpeed
  /** At the end of a session that is still running: new events show as they happen. */
  live: boolean
  running: boolean
  status: SocketStatus
  play(): void
  pause(): void
  seek(position: number): void
  setSpeed(speed: ReplaySpeed): void
}

/**
 * A shared session as a timed replay: every stored event is loaded (paged),
 * placed on a timeline with the original spacing (long pauses shortened),
 * and played from the start; the read-only socket (`?share=&after=`) keeps
 * adding events, shown at once while the playhead is at the live edge.
 *
 * @example
 *   const replay = useSharedReplay(token)
 *   replay.seek(replay.timeline.duration)
 */
export function useSharedReplay(token: string): SharedReplay {
  const [info, setInfo] = useState<SharedSession | null>(null)
  const [loadError, setLoadError] = useState<FriendlyError | null>(null)
  const [loading, setLoading] = useState(true)
  const [events, setEvents] = useState<Frame[]>([])
  const [running, setRunning] = useState(false)
  const [status, setStatus] = useState<SocketStatus>('connecting')
  const eventsRef = useRef<Frame[]>([])
  const timeline = useMemo(() => buildTimeline(events.map((e) => Date.parse(e.timestamp ?? ''))), [events])
  const playback = usePlayback(timeline.duration, running)
  const count = playedAt(timeline, playback.position)
  const atEdge = count >= events.length

  // The fold is incremental while playing forward; a seek back starts again from the first event.
  const fold = useRef<{ count: number; state: ChatState; events: Frame[] }>({ count: 0, state: emptyChat, events: [] })
  const [liveTick, setLiveTick] = useState(0)
  const state = useMemo(() => {
    void liveTick
    const memo = fold.current
    // Events only ever grow by appending; anything else (a reload) or a seek back starts the fold again.
    const sameLog = memo.count === 0 || events[memo.count - 1] === memo.events[memo.count - 1]
    if (!sameLog || count < memo.count) {
      memo.count = 0
      memo.state = emptyChat
    }
    memo.state = applyFrames(memo.state, events.slice(memo.count, count))
    memo.count = count
    memo.events = events
    return memo.state
  }, [events, count, liveTick])
  const finalState = useMemo(() => applyFrames(emptyChat, events), [events])

  // At the end of the timeline the view follows the session live, paused or not.
  const following = useRef(false)
  following.current = atEdge

  const onFrame = useCallback(
    (frame: Frame) => {
      // Viewers get no `processing`: a new user message is what starts a run for them.
      if (frame.type === 'user_message' || frame.type === 'processing') setRunning(true)
      if (frame.type === 'stream_complete') setRunning(false)
      if (typeof frame.seq === 'number') {
        const last = eventsRef.current[eventsRef.current.length - 1]?.seq ?? 0
        if (frame.seq <= last) return
        eventsRef.current = [...eventsRef.current, frame]
        setEvents(eventsRef.current)
        if (following.current) playback.jumpToEnd()
        return
      }
      // Tokens and tool output only make sense at the live edge.
      if (following.current && fold.current.count === eventsRef.current.length) {
        fold.current.state = applyFrames(fold.current.state, [frame])
        setLiveTick((t) => t + 1)
      }
    },
    [playback.jumpToEnd],
  )

  useEffect(() => {
    let cancelled = false
    let socket: SessionSocket | null = null
    setLoading(true)
    load(token)
      .then(({ info, frames }) => {
        if (cancelled) return
        setInfo(info)
        setRunning(info.session.running)
        eventsRef.current = frames
        setEvents(frames)
        playback.restart()
        socket = new SessionSocket({
          params: () => ({ share: token, after: eventsRef.current[eventsRef.current.length - 1]?.seq ?? 0 }),
          onFrame,
          onStatus: setStatus,
        })
        socket.connect()
      })
      .catch((error: unknown) => {
        if (cancelled) return
        const e = error instanceof ApiError ? error : new ApiError(0, 'NETWORK', String(error))
        setLoadError(friendlyError(e.code, e.message))
      })
      .finally(() => !cancelled && setLoading(false))
    return () => {
      cancelled = true
      socket?.close()
    }
  }, [token, onFrame, playback.restart])

  return {
    info,
    loadError,
    loading,
    state,
    finalState,
    events,
    timeline,
    position: playback.position,
    playing: playback.playing,
    speed: playback.speed,
    live: atEdge && running,
    running,
    status,
    play: playback.play,
    pause: playback.pause,
    seek: playback.seek,
    setSpeed: playback.setSpeed,
  }
}

async function load(token: string): Promise<{ info: SharedSession; frames: Frame[] }> {
  const info = await shareApi.info(token)
  return { info, frames: await allFrames((after) => shareApi.events(token, after)) }
}

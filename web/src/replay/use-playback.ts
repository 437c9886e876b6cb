import { useCallback, useEffect, useRef, useState } from 'react'
import { advance, type ReplaySpeed } from './timeline.js'

/**
 * The replay clock: a position on the timeline that advances with
 * wall-clock time times the speed while playing. At the end it stops,
 * unless `holdAtEnd` (the session still runs), where it waits for more.
 *
 * @example
 *   const playback = usePlayback(timeline.duration, running)
 *   playback.setSpeed(10)
 */
export function usePlayback(duration: number, holdAtEnd: boolean) {
  const [position, setPosition] = useState(0)
  const [playing, setPlaying] = useState(true)
  const [speed, setSpeedState] = useState<ReplaySpeed>(1)
  const durationRef = useRef(duration)
  durationRef.current = duration
  const holdRef = useRef(holdAtEnd)
  holdRef.current = holdAtEnd
  const pinnedToEnd = useRef(false)

  // New events lengthen the timeline; a playhead pinned to the end follows it (live).
  useEffect(() => {
    if (pinnedToEnd.current) setPosition(duration)
  }, [duration])

  useEffect(() => {
    if (!playing) return
    let last = performance.now()
    let frame = requestAnimationFrame(function tick(now) {
      const elapsed = now - last
      last = now
      setPosition((p) => {
        const next = advance(p, elapsed, speed, durationRef.current)
        pinnedToEnd.current = next >= durationRef.current
        if (pinnedToEnd.current && !holdRef.current) setPlaying(false)
        return next
      })
      frame = requestAnimationFrame(tick)
    })
    return () => cancelAnimationFrame(frame)
  }, [playing, speed])

  const play = useCallback(() => {
    // Play at the end of a finished session means: watch it again.
    setPosition((p) => (p >= durationRef.current && !holdRef.current ? 0 : p))
    setPlaying(true)
  }, [])
  const pause = useCallback(() => setPlaying(false), [])
  const seek = useCallback((to: number) => {
    const clamped = Math.max(0, Math.min(durationRef.current, to))
    pinnedToEnd.current = clamped >= durationRef.current
    setPosition(clamped)
  }, [])
  const setSpeed = useCallback((next: ReplaySpeed) => {
    setSpeedState(next)
    if (next === 'instant') {
      pinnedToEnd.current = true
      setPosition(durationRef.current)
    }
  }, [])
  const jumpToEnd = useCallback(() => {
    pinnedToEnd.current = true
    setPosition(durationRef.current)
  }, [])
  const restart = useCallback(() => {
    pinnedToEnd.current = false
    setPosition(0)
    setPlaying(true)
  }, [])

  return { position, playing, speed, play, pause, seek, setSpeed, jumpToEnd, restart }
}

import { useCallback, useEffect, useRef, useState } from 'react'
import type { Frame } from '../lib/api-types.js'
import { applyFrames } from '../state/chat-reducer.js'
import { type ChatState, emptyChat } from '../state/chat-state.js'

/**
 * Chat state fed by frames, applied in batches once per animation frame (or
 * 100 ms in a hidden tab): a fast token stream renders a few times a second,
 * not once per token. `current()` is always up to date, for `after=`.
 */
export function useFrameBatcher() {
  const [state, setState] = useState<ChatState>(emptyChat)
  const ref = useRef<ChatState>(emptyChat)
  const pending = useRef<Frame[]>([])
  const scheduled = useRef(false)

  const flush = useCallback(() => {
    scheduled.current = false
    if (pending.current.length === 0) return
    ref.current = applyFrames(ref.current, pending.current.splice(0))
    setState(ref.current)
  }, [])

  const push = useCallback(
    (frame: Frame) => {
      pending.current.push(frame)
      if (scheduled.current) return
      scheduled.current = true
      requestAnimationFrame(flush)
      setTimeout(flush, 100)
    },
    [flush],
  )

  /** Set the state now: a new state drops frames not applied yet (a reset); a function applies them first. */
  const replace = useCallback(
    (next: ChatState | ((current: ChatState) => ChatState)) => {
      if (typeof next === 'function') {
        flush()
        ref.current = next(ref.current)
      } else {
        pending.current.length = 0
        ref.current = next
      }
      setState(ref.current)
    },
    [flush],
  )

  /** The state including frames not rendered yet. */
  const current = useCallback(() => {
    if (pending.current.length > 0) flush()
    return ref.current
  }, [flush])

  useEffect(
    () => () => {
      pending.current.length = 0
    },
    [],
  )
  return { state, push, replace, current }
}

import { useCallback, useEffect, useRef, useState } from 'react'
import { ApiError, evalApi } from '../lib/api.js'
import type { EvalRunDetail, EvalRunList } from '../lib/api-types.js'

/** How often the page asks again while a run is running: tasks appear as they start and fill in as they end. */
const POLL_MS = 1000
/** With nothing running, only a run started elsewhere (the CLI) can change anything: ask less often. */
const IDLE_POLL_MS = 5000

export interface EvalRuns {
  list: EvalRunList | null
  detail: EvalRunDetail | null
  error: ApiError | null
  /** Ask now (after starting or stopping a run) instead of at the next tick. */
  refresh(): void
}

/**
 * The runs and the selected run's tasks, polled: every second while
 * something runs, every five otherwise. One request at a time; a slow
 * answer delays the next tick rather than piling requests up.
 *
 * @example
 *   const { list, detail } = useEvalRuns(runName)
 */
export function useEvalRuns(runName: string | null): EvalRuns {
  const [list, setList] = useState<EvalRunList | null>(null)
  const [detail, setDetail] = useState<EvalRunDetail | null>(null)
  const [error, setError] = useState<ApiError | null>(null)
  const wake = useRef<() => void>(() => {})

  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    setDetail(null)
    const tick = async (): Promise<void> => {
      clearTimeout(timer)
      let running = false
      try {
        const [runs, run] = await Promise.all([
          evalApi.runs(),
          runName === null ? Promise.resolve(null) : evalApi.run(runName),
        ])
        if (stopped) return
        setList(runs)
        setDetail(run)
        setError(null)
        running = runs.runs.some((r) => r.status === 'running')
      } catch (caught) {
        if (stopped) return
        setError(caught instanceof ApiError ? caught : new ApiError(0, 'NETWORK', String(caught)))
      }
      timer = setTimeout(() => void tick(), running ? POLL_MS : IDLE_POLL_MS)
    }
    wake.current = () => void tick()
    void tick()
    return () => {
      stopped = true
      clearTimeout(timer)
    }
  }, [runName])

  const refresh = useCallback(() => wake.current(), [])
  return { list, detail, error, refresh }
}

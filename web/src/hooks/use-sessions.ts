import { useCallback, useEffect, useRef, useState } from 'react'
import { ApiError, sessionsApi } from '../lib/api.js'
import type { SessionSummary } from '../lib/api-types.js'
import { type FriendlyError, friendlyError } from '../lib/friendly-error.js'
import { onSessionsChanged } from '../routes.js'

const PAGE = 30
/** With a search term, pages keep loading so the search covers every session, up to this many. */
const SEARCH_CEILING = 2000

export interface SessionList {
  sessions: SessionSummary[]
  loading: boolean
  hasMore: boolean
  error: FriendlyError | null
  loadMore(): void
  reload(): void
  rename(id: string, name: string): Promise<void>
  remove(id: string): Promise<void>
}

/**
 * This device's sessions, newest first, a page at a time (cursor paging);
 * reloaded when a session is created, renamed, deleted or finishes a run.
 *
 * @example
 *   const list = useSessions(open, search)
 */
export function useSessions(active: boolean, search: string): SessionList {
  const [sessions, setSessions] = useState<SessionSummary[]>([])
  const [cursor, setCursor] = useState<string | null>(null)
  const [hasMore, setHasMore] = useState(true)
  const [loading, setLoading] = useState(false)
  const [error, setError] = useState<FriendlyError | null>(null)
  const generation = useRef(0)
  const busy = useRef(false)

  const fetchPage = useCallback(async (from: string | null, replace: boolean) => {
    if (busy.current && !replace) return
    busy.current = true
    const mine = replace ? ++generation.current : generation.current
    setLoading(true)
    try {
      const page = await sessionsApi.list(from, PAGE)
      if (mine !== generation.current) return
      setSessions((old) => {
        const merged = replace ? page.sessions : [...old, ...page.sessions]
        const seen = new Set<string>()
        return merged.filter((s) => !seen.has(s.id) && seen.add(s.id))
      })
      setCursor(page.next_cursor)
      setHasMore(page.next_cursor !== null)
      setError(null)
    } catch (e) {
      if (mine !== generation.current) return
      const err = e instanceof ApiError ? e : new ApiError(0, 'NETWORK', String(e))
      setError(friendlyError(err.code, err.message))
      setHasMore(false)
    } finally {
      if (mine === generation.current) {
        busy.current = false
        setLoading(false)
      }
    }
  }, [])

  const reload = useCallback(() => void fetchPage(null, true), [fetchPage])
  const loadMore = useCallback(() => {
    if (hasMore && !loading) void fetchPage(cursor, false)
  }, [cursor, hasMore, loading, fetchPage])

  useEffect(() => {
    if (active) reload()
  }, [active, reload])
  useEffect(() => onSessionsChanged(reload), [reload])
  useEffect(() => {
    if (search.trim() && hasMore && !loading && sessions.length < SEARCH_CEILING) loadMore()
  }, [search, hasMore, loading, sessions.length, loadMore])

  const rename = useCallback(async (id: string, name: string) => {
    const { session } = await sessionsApi.rename(id, name)
    setSessions((list) => list.map((s) => (s.id === id ? { ...s, ...session } : s)))
  }, [])
  const remove = useCallback(async (id: string) => {
    await sessionsApi.remove(id)
    setSessions((list) => list.filter((s) => s.id !== id))
  }, [])

  return { sessions, loading, hasMore, error, loadMore, reload, rename, remove }
}

/** What the drawer calls a session: its name, summary or first message. */
export function sessionTitle(session: SessionSummary): string {
  return (session.title ?? session.name ?? session.summary ?? session.first_message ?? '').trim() || 'Untitled session'
}

import { useEffect, useState } from 'react'

export type Route =
  | { page: 'chat'; sessionId: string | null }
  | { page: 'share'; token: string }
  | { page: 'eval'; runName: string | null }

const ID = /^[A-Za-z0-9_-]{1,128}$/

/**
 * The UI's addresses: `/` starts a new session, `/session/<id>` (or the
 * reference's `/?session=<id>` and `/?id=<id>`) continues one,
 * `/share/<token>` is the read-only shared view, `/eval` (or `/eval/<run>`) the GAIA runs.
 *
 * @example
 *   parseRoute('/share/abc', '') // { page: 'share', token: 'abc' }
 */
export function parseRoute(pathname: string, search: string): Route {
  const share = pathname.match(/^\/share\/([^/]+)\/?$/)
  if (share?.[1]) return { page: 'share', token: decodeURIComponent(share[1]) }
  const evalRun = pathname.match(/^\/eval(?:\/([^/]+))?\/?$/)
  if (evalRun) return { page: 'eval', runName: evalRun[1] ? decodeURIComponent(evalRun[1]) : null }
  const session = pathname.match(/^\/session\/([^/]+)\/?$/)
  const query = new URLSearchParams(search)
  const id = session?.[1] ? decodeURIComponent(session[1]) : (query.get('session') ?? query.get('id'))
  return { page: 'chat', sessionId: id && ID.test(id) ? id : null }
}

const ROUTE_EVENT = 'berth:navigate'

/** Go to a UI address without reloading; `replace` when only adopting the id of the session on screen. */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  window.dispatchEvent(new Event(ROUTE_EVENT))
}

const read = (): Route => parseRoute(location.pathname, location.search)

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(read)
  useEffect(() => {
    const update = () => setRoute(read())
    window.addEventListener('popstate', update)
    window.addEventListener(ROUTE_EVENT, update)
    return () => {
      window.removeEventListener('popstate', update)
      window.removeEventListener(ROUTE_EVENT, update)
    }
  }, [])
  return route
}

const SESSIONS_EVENT = 'berth:sessions-changed'

/** Tell the sessions drawer to reload (a session was created, renamed, deleted or finished a run). */
export function sessionsChanged(): void {
  window.dispatchEvent(new Event(SESSIONS_EVENT))
}

export function onSessionsChanged(listener: () => void): () => void {
  window.addEventListener(SESSIONS_EVENT, listener)
  return () => window.removeEventListener(SESSIONS_EVENT, listener)
}

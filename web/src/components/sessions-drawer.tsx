import { useEffect, useRef, useState } from 'react'
import { sessionTitle, useSessions } from '../hooks/use-sessions.js'
import { navigate } from '../routes.js'
import { ErrorNotice } from './error-notice.js'
import { SessionRow } from './session-row.js'

/**
 * This device's sessions, on every screen: newest first, searchable, renamed
 * and deleted in place, more loaded as the list scrolls to its end.
 */
export function SessionsDrawer(props: { open: boolean; currentId: string | null; onClose: () => void }) {
  const [search, setSearch] = useState('')
  const list = useSessions(props.open, search)
  const sentinel = useRef<HTMLLIElement>(null)
  const { loadMore } = list

  useEffect(() => {
    const node = sentinel.current
    if (!node || !props.open) return
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadMore()
    })
    observer.observe(node)
    return () => observer.disconnect()
  }, [props.open, loadMore])

  const term = search.trim().toLowerCase()
  const shown = term ? list.sessions.filter((s) => sessionTitle(s).toLowerCase().includes(term)) : list.sessions
  const go = (path: string) => {
    navigate(path)
    if (window.matchMedia('(max-width: 1099px)').matches) props.onClose()
  }

  return (
    <nav
      id="sessions-drawer"
      className="drawer"
      aria-label="Sessions"
      data-open={props.open}
      hidden={!props.open}
      onKeyDown={(e) => e.key === 'Escape' && props.onClose()}
    >
      <div className="drawer-head">
        <span className="brand" aria-hidden="true">
          berth
        </span>
        <button type="button" className="button primary" onClick={() => go('/')}>
          New session
        </button>
        <button type="button" className="icon-button drawer-close" aria-label="Close sessions" onClick={props.onClose}>
          ×
        </button>
      </div>
      <input
        type="search"
        className="drawer-search"
        placeholder="Search sessions"
        aria-label="Search sessions"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
      />
      {list.error ? <ErrorNotice error={list.error} onRetry={list.reload} /> : null}
      <ul className="session-list">
        {shown.map((session) => (
          <SessionRow
            key={session.id}
            session={session}
            current={session.id === props.currentId}
            onOpen={() => go(`/session/${encodeURIComponent(session.id)}`)}
            onRename={(name) => list.rename(session.id, name)}
            onDelete={async () => {
              await list.remove(session.id)
              if (session.id === props.currentId) navigate('/')
            }}
          />
        ))}
        <li ref={sentinel} className="session-list-end" aria-live="polite">
          {list.loading
            ? 'Loading…'
            : shown.length === 0 && !list.error
              ? term
                ? 'No session matches.'
                : 'No sessions yet on this device.'
              : ''}
        </li>
      </ul>
    </nav>
  )
}

import { type ReactNode, useEffect } from 'react'
import { navigate } from '../routes.js'
import { StorageStatus } from './storage-status.js'

/** The bar on every screen: the sessions drawer button, a title, the storage badge, and the page's actions. */
export function AppHeader(props: { title: string; drawerOpen: boolean; onMenu: () => void; children?: ReactNode }) {
  useEffect(() => {
    document.title = `${props.title} · berth`
  }, [props.title])
  return (
    <header className="app-header">
      <button
        type="button"
        className="icon-button"
        aria-label={props.drawerOpen ? 'Hide sessions' : 'Show sessions'}
        aria-expanded={props.drawerOpen}
        aria-controls="sessions-drawer"
        onClick={props.onMenu}
      >
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
          <path d="M3 6h18M3 12h18M3 18h18" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
        </svg>
      </button>
      <h1 className="app-title" title={props.title}>
        {props.title}
      </h1>
      <a
        className="header-link"
        href="/eval"
        title="GAIA benchmark runs"
        onClick={(e) => {
          if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return
          e.preventDefault()
          navigate('/eval')
        }}
      >
        GAIA
      </a>
      <StorageStatus />
      <div className="header-actions">{props.children}</div>
    </header>
  )
}

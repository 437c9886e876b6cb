import { useState } from 'react'
import { sessionTitle } from '../hooks/use-sessions.js'
import { ApiError } from '../lib/api.js'
import type { SessionSummary } from '../lib/api-types.js'
import { localDate } from '../lib/format.js'
import { friendlyError } from '../lib/friendly-error.js'
import { Icon } from './icons.js'

/** One session in the drawer: open it, rename it inline, or delete it after a confirmation. */
export function SessionRow(props: {
  session: SessionSummary
  current: boolean
  onOpen: () => void
  onRename: (name: string) => Promise<void>
  onDelete: () => Promise<void>
}) {
  const { session } = props
  const title = sessionTitle(session)
  const [mode, setMode] = useState<'view' | 'rename' | 'confirm'>('view')
  const [draft, setDraft] = useState(title)
  const [error, setError] = useState<string | null>(null)

  const run = async (action: () => Promise<void>) => {
    try {
      await action()
      setMode('view')
      setError(null)
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, 'NETWORK', String(e))
      const friendly = friendlyError(err.code, err.message)
      setError(friendly.action ? `${friendly.detail} ${friendly.action}` : friendly.detail)
    }
  }

  return (
    <li className="session-row" data-session-id={session.id} data-current={props.current} data-status={session.status}>
      {mode === 'rename' ? (
        <form
          className="rename-form"
          onSubmit={(e) => {
            e.preventDefault()
            if (draft.trim()) void run(() => props.onRename(draft.trim()))
          }}
        >
          <input
            aria-label="New name"
            value={draft}
            maxLength={200}
            // biome-ignore lint/a11y/noAutofocus: the user just asked to rename this row
            autoFocus
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => e.key === 'Escape' && setMode('view')}
          />
          <button type="submit" className="button small">
            Save
          </button>
          <button type="button" className="button small" onClick={() => setMode('view')}>
            Cancel
          </button>
        </form>
      ) : (
        <button
          type="button"
          className="session-open"
          aria-current={props.current ? 'page' : undefined}
          onClick={props.onOpen}
        >
          <span className="session-title">{title}</span>
          <span className="session-meta">
            <time dateTime={session.updated_at}>{localDate(session.updated_at)}</time>
            {session.status === 'running' ? <span className="badge">running</span> : null}
          </span>
        </button>
      )}
      {mode === 'view' ? (
        <span className="session-actions">
          <button
            type="button"
            className="icon-button small"
            aria-label={`Rename ${title}`}
            title="Rename"
            onClick={() => {
              setDraft(title)
              setMode('rename')
            }}
          >
            <Icon name="pencil" />
          </button>
          <button
            type="button"
            className="icon-button small"
            aria-label={`Delete ${title}`}
            title="Delete"
            onClick={() => setMode('confirm')}
          >
            <Icon name="trash" />
          </button>
        </span>
      ) : null}
      {mode === 'confirm' ? (
        <div className="confirm" role="alertdialog" aria-label={`Delete ${title}?`}>
          <p>Delete “{title}”? Its history, files and share links are removed for good.</p>
          <button type="button" className="button danger small" onClick={() => void run(props.onDelete)}>
            Delete
          </button>
          {/* biome-ignore lint/a11y/noAutofocus: keep the safe choice under the keyboard */}
          <button type="button" className="button small" autoFocus onClick={() => setMode('view')}>
            Cancel
          </button>
        </div>
      ) : null}
      {error ? (
        <p className="row-error" role="alert">
          {error}
        </p>
      ) : null}
    </li>
  )
}

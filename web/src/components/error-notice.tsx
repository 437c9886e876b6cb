import { type FriendlyError, friendlyError } from '../lib/friendly-error.js'

/**
 * An error in plain words: what happened, the server's own message, and
 * what to do.
 *
 * @example
 *   <ErrorNotice code="LLM_NOT_CONFIGURED" message="Set CHUTES_API_KEY …" />
 */
export function ErrorNotice(props: {
  error?: FriendlyError
  code?: string | null
  message?: string
  onRetry?: () => void
}) {
  const error = props.error ?? friendlyError(props.code, props.message ?? '')
  return (
    <div className="error-notice" role="alert">
      <strong>{error.title}</strong>
      {error.detail && error.detail !== error.title ? <p>{error.detail}</p> : null}
      {error.action ? <p className="error-action">{error.action}</p> : null}
      {error.note ? <p className="error-note">{error.note}</p> : null}
      {props.onRetry ? (
        <button type="button" className="button" onClick={props.onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  )
}

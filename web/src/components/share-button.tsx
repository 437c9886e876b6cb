import { useEffect, useRef, useState } from 'react'
import { ApiError, sessionsApi } from '../lib/api.js'
import { friendlyError } from '../lib/friendly-error.js'

/**
 * Creates the session's share link (or reuses the active one) and copies
 * it; the popover shows the link too, for browsers that refuse the copy.
 */
export function ShareButton({ sessionId }: { sessionId: string }) {
  const [open, setOpen] = useState(false)
  const [url, setUrl] = useState<string | null>(null)
  const [note, setNote] = useState('')
  const box = useRef<HTMLDivElement>(null)

  // biome-ignore lint/correctness/useExhaustiveDependencies: another session has its own link
  useEffect(() => {
    setUrl(null)
    setOpen(false)
  }, [sessionId])

  useEffect(() => {
    if (!open) return
    // Closes on a click elsewhere or Escape, like any popover.
    const close = (e: MouseEvent) => box.current && !box.current.contains(e.target as Node) && setOpen(false)
    const onEscape = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false)
    document.addEventListener('mousedown', close)
    document.addEventListener('keydown', onEscape)
    return () => {
      document.removeEventListener('mousedown', close)
      document.removeEventListener('keydown', onEscape)
    }
  }, [open])

  const share = async () => {
    setOpen(true)
    setNote('Creating link…')
    try {
      const { share, reused } = await sessionsApi.share(sessionId)
      setUrl(share.url)
      const copied = await navigator.clipboard?.writeText(share.url).then(
        () => true,
        () => false,
      )
      setNote(`${reused ? 'Existing link' : 'New link'}${copied ? ' copied to the clipboard.' : ' (copy it below).'}`)
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, 'NETWORK', String(e))
      const friendly = friendlyError(err.code, err.message)
      setNote(`${friendly.title}. ${friendly.action ?? friendly.detail}`)
    }
  }

  return (
    <div className="popover-anchor" ref={box}>
      <button type="button" className="button" aria-haspopup="dialog" aria-expanded={open} onClick={share}>
        Share
      </button>
      {open ? (
        <div className="popover" role="dialog" aria-label="Share link">
          <p role="status">{note}</p>
          {url ? (
            <>
              <input
                className="share-url"
                readOnly
                value={url}
                aria-label="Share link"
                onFocus={(e) => e.currentTarget.select()}
              />
              <p className="popover-hint">
                Anyone with this link can watch the session (read-only), even after the server restarts.
              </p>
            </>
          ) : null}
        </div>
      ) : null}
    </div>
  )
}

import { useState } from 'react'
import type { MediaKind } from '../lib/file-kind.js'

const VERB = { image: 'show this image', audio: 'play this audio', video: 'play this video' } as const

/**
 * A workspace image, audio or video file loaded by URL (the page's file
 * source: the owner's download route or a share link's, both answering
 * `Range`, so a long recording seeks without loading it whole). Players load
 * metadata only until the user presses play. `quiet`: a file that does not
 * load is hidden instead of explained (a URL in a tool's result may name
 * something that is no file of this workspace).
 */
export function MediaPreview(props: {
  kind: MediaKind
  url: string
  path: string
  className?: string
  quiet?: boolean
}) {
  const { kind, url, path } = props
  const [failed, setFailed] = useState(false)
  const onError = () => setFailed(true)
  return (
    <figure
      className={`media-preview media-${kind} ${props.className ?? ''}`}
      data-path={path}
      data-failed={failed || undefined}
      hidden={failed && props.quiet === true}
    >
      {failed ? (
        <p className="media-note" role="note">
          Cannot {VERB[kind]}: the file is missing or the browser does not support its format.{' '}
          <a href={url} download>
            Download it
          </a>
        </p>
      ) : kind === 'image' ? (
        <img src={url} alt={path} onError={onError} />
      ) : kind === 'audio' ? (
        // biome-ignore lint/a11y/useMediaCaption: generated speech has no caption track; its text is in the tool call
        <audio controls preload="metadata" src={url} onError={onError} aria-label={`Audio ${path}`} />
      ) : (
        // biome-ignore lint/a11y/useMediaCaption: generated video has no caption track
        <video controls preload="metadata" src={url} onError={onError} aria-label={`Video ${path}`} />
      )}
      <figcaption>{path}</figcaption>
    </figure>
  )
}

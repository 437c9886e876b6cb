import { useEffect, useState } from 'react'
import { ApiError, type FileSource } from '../lib/api.js'
import type { FileContent } from '../lib/api-types.js'
import { imageType, mediaKind } from '../lib/file-kind.js'
import { type FriendlyError, friendlyError } from '../lib/friendly-error.js'
import { CodeView } from './code-view.js'
import { ErrorNotice } from './error-notice.js'
import { MediaPreview } from './media-preview.js'

/** In a replay: the file as the log recorded it at the replayed moment (null: no edit recorded by then). */
export interface RecordedFile {
  content: string | null
  /** The log records an edit of this file after the replayed moment. */
  editedLater: boolean
}

/**
 * One workspace file: text highlighted, images shown and audio and video
 * played (by URL, so a large one is never read whole), anything else offered
 * as a download. In a replay, a file the events carry shows its content as
 * of the replayed moment; others show the file as it is now (the reference
 * showed them empty).
 */
export function FileViewer(props: { source: FileSource; path: string; version: number; recorded?: RecordedFile }) {
  const { source, path, version, recorded } = props
  const [file, setFile] = useState<FileContent | null>(null)
  const [error, setError] = useState<FriendlyError | null>(null)
  const useRecorded = recorded?.content != null
  // Media is loaded by the element itself, with Range; an SVG the log recorded shows as recorded.
  const media = useRecorded ? null : mediaKind(path)

  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` is the reload signal
  useEffect(() => {
    if (useRecorded || media !== null) return
    let live = true
    // The first load at once; reloads (the file may have changed) once a run's tool results settle.
    const timer = setTimeout(
      () => {
        source
          .content(path)
          .then((content) => {
            if (!live) return
            setFile(content)
            setError(null)
          })
          .catch((e: unknown) => {
            if (!live) return
            const err = e instanceof ApiError ? e : new ApiError(0, 'NETWORK', String(e))
            setFile(null)
            setError(friendlyError(err.code, err.message))
          })
      },
      file === null ? 0 : 250,
    )
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [source, path, version, useRecorded, media])

  const shown: FileContent | null = useRecorded ? { content: recorded?.content ?? '', encoding: 'utf-8' } : file
  const download = source.downloadUrl(path)
  const name = path.split('/').pop() ?? path
  return (
    <section className="file-viewer" aria-label={`File ${path}`}>
      <header className="viewer-head">
        <span className="viewer-path" title={path}>
          {path}
        </span>
        {download ? (
          <a className="button small" href={download} download={name}>
            Download
          </a>
        ) : shown ? (
          <button type="button" className="button small" onClick={() => saveBlob(name, shown)}>
            Download
          </button>
        ) : null}
      </header>
      {recorded ? (
        <p className="viewer-note">
          {useRecorded
            ? 'As of the replayed moment.'
            : recorded.editedLater
              ? 'Not written yet at this point of the replay; showing the file as it is now.'
              : 'Shown as it is now (the replay carries no edit of this file).'}
        </p>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}
      {media !== null ? (
        <MediaPreview className="viewer-media" kind={media} path={path} url={source.fileUrl(path)} />
      ) : shown ? (
        <FileBody path={path} file={shown} download={download} />
      ) : error ? null : (
        <p className="tree-note">Loading…</p>
      )}
    </section>
  )
}

function FileBody({ path, file, download }: { path: string; file: FileContent; download: string | null }) {
  const image = imageType(path)
  if (image && (file.encoding === 'base64' || image === 'image/svg+xml')) {
    const src =
      file.encoding === 'base64'
        ? `data:${image};base64,${file.content}`
        : `data:${image};charset=utf-8,${encodeURIComponent(file.content)}`
    return <img className="viewer-image" src={src} alt={path} />
  }
  if (file.encoding === 'utf-8') return <CodeView path={path} text={file.content} />
  return (
    <p className="tree-note">
      This is a binary file.{' '}
      {download ? (
        <a href={download} download>
          Download it
        </a>
      ) : (
        'Use Download to save it'
      )}
      .
    </p>
  )
}

function saveBlob(name: string, file: FileContent): void {
  const data =
    file.encoding === 'base64'
      ? Uint8Array.from(atob(file.content), (c) => c.charCodeAt(0))
      : new TextEncoder().encode(file.content)
  const url = URL.createObjectURL(new Blob([data]))
  const link = document.createElement('a')
  link.href = url
  link.download = name
  link.click()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

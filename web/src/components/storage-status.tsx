import { useId } from 'react'
import { useReady } from '../hooks/use-server-info.js'
import { bytes } from '../lib/format.js'

const LABELS = {
  persistent: { label: 'Persistent storage', tone: 'ok' },
  local: { label: 'Local folder', tone: 'warn' },
  ephemeral: { label: 'Ephemeral storage', tone: 'bad' },
  external: { label: 'Database and bucket', tone: 'ok' },
} as const

const EXPLAIN = {
  persistent: 'Sessions, files and share links are kept on a persistent disk and survive restarts and redeploys.',
  local:
    'Data is kept in the folder the server was started from. It survives restarts on this machine, but on a ' +
    'hosting platform without a disk it can vanish at the next deploy. Set BERTH_DATA_DIR to a persistent disk.',
  ephemeral:
    'Data is on storage that will be wiped when the server is redeployed or restarted. Mount a persistent disk ' +
    'and point BERTH_DATA_DIR at it before relying on this server.',
  external:
    'Sessions are kept in PostgreSQL and files in an S3-compatible bucket, shared by every instance of this ' +
    'server; they survive restarts, redeploys and lost instances.',
} as const

/**
 * Where the server keeps its data (from `/readyz`): a small badge with an
 * explanation on hover and keyboard focus, so nobody finds out after a
 * redeploy that their data was on a disk that vanished.
 */
export function StorageStatus() {
  const report = useReady()
  const tipId = useId()
  if (report === null) return <span className="storage-wrap" aria-hidden="true" />
  if (report === 'unreachable') {
    return (
      <Badge tipId={tipId} tone="bad" label="Server unreachable">
        The server does not answer its health check. Check that it is running; the page retries by itself.
      </Badge>
    )
  }
  const mode = report.storage.mode
  const { label, tone } = LABELS[mode] ?? LABELS.local
  const full = report.disk.totalBytes > 0 ? 1 - report.disk.freeBytes / report.disk.totalBytes : 0
  return (
    <Badge tipId={tipId} tone={report.ready ? tone : 'bad'} label={label} mode={mode}>
      <strong>{label}.</strong> {EXPLAIN[mode]}
      {report.storage.warnings.map((warning) => (
        <span key={warning} className="tooltip-warning">
          {warning}
        </span>
      ))}
      {!report.store.writable ? (
        <span className="tooltip-warning">
          The database cannot be written: {report.store.error ?? 'unknown error'}.
        </span>
      ) : null}
      <span className="tooltip-meta">
        Disk: {bytes(report.disk.freeBytes)} free of {bytes(report.disk.totalBytes)} ({Math.round(full * 100)}% used) ·
        source: {report.storage.source}
      </span>
    </Badge>
  )
}

/** A focusable badge whose explanation shows on hover and on keyboard focus. */
function Badge(props: { tipId: string; tone: string; label: string; mode?: string; children: React.ReactNode }) {
  return (
    <span className={`storage-wrap tone-${props.tone}`} data-mode={props.mode}>
      <button type="button" className="storage-status" aria-label={props.label} aria-describedby={props.tipId}>
        <span className="dot" aria-hidden="true" />
        <span className="storage-label" aria-hidden="true">
          {props.label}
        </span>
      </button>
      <span role="tooltip" id={props.tipId} className="tooltip">
        {props.children}
      </span>
    </span>
  )
}

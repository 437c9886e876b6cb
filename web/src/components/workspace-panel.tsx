import { useState } from 'react'
import type { FileSource } from '../lib/api.js'
import { siteHref } from '../lib/deploy-url.js'
import { FileTree } from './file-tree.js'
import { FileViewer, type RecordedFile } from './file-viewer.js'

/**
 * The session's workspace beside the chat: the file tree and viewer, the
 * whole-workspace zip, and the deployed site in a frame with a link to open
 * it. On narrow screens it is a full-width panel opened from the header.
 */
export function WorkspacePanel(props: {
  source: FileSource | null
  version: number
  deployUrl: string | null
  open: boolean
  onClose: () => void
  /** In a replay: what the log recorded of a path at the replayed moment. */
  recordedAt?: (path: string) => RecordedFile
  emptyNote?: string
}) {
  const [tab, setTab] = useState<'files' | 'site'>('files')
  const [selected, setSelected] = useState<string | null>(null)
  const zip = props.source?.zipUrl() ?? null
  const current = props.deployUrl ? tab : 'files'
  const site = props.deployUrl ? siteHref(props.deployUrl, location.origin) : null
  return (
    <aside id="workspace-panel" className="workspace" aria-label="Workspace" data-open={props.open}>
      <div className="workspace-head">
        <div className="tabs" role="tablist" aria-label="Workspace views">
          <button type="button" role="tab" aria-selected={current === 'files'} onClick={() => setTab('files')}>
            Files
          </button>
          {props.deployUrl ? (
            <button type="button" role="tab" aria-selected={current === 'site'} onClick={() => setTab('site')}>
              Site
            </button>
          ) : null}
        </div>
        {zip ? (
          <a className="button small" href={zip} download>
            Download all (.zip)
          </a>
        ) : null}
        <button
          type="button"
          className="icon-button workspace-close"
          aria-label="Close workspace"
          onClick={props.onClose}
        >
          ×
        </button>
      </div>
      {current === 'site' && props.deployUrl && site ? (
        <div className="site-view" role="tabpanel" aria-label="Deployed site">
          <div className="site-bar">
            <span className="deploy-url">{props.deployUrl}</span>
            <a className="button small primary" href={site} target="_blank" rel="noopener noreferrer">
              Open ↗
            </a>
          </div>
          <iframe className="site-frame" src={site} title="Deployed site" sandbox="allow-scripts allow-forms" />
        </div>
      ) : props.source ? (
        <div className="files-view" role="tabpanel" aria-label="Files">
          <FileTree source={props.source} version={props.version} selected={selected} onSelect={setSelected} />
          {selected ? (
            <FileViewer
              key={selected}
              source={props.source}
              path={selected}
              version={props.version}
              {...(props.recordedAt ? { recorded: props.recordedAt(selected) } : {})}
            />
          ) : null}
        </div>
      ) : (
        <p className="tree-note">{props.emptyNote ?? 'No workspace yet.'}</p>
      )}
    </aside>
  )
}

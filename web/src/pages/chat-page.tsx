import { type DragEvent, useCallback, useMemo, useState } from 'react'
import { AppHeader } from '../components/app-header.js'
import { ChatView } from '../components/chat-view.js'
import { Composer } from '../components/composer.js'
import { ErrorNotice } from '../components/error-notice.js'
import { FileSourceContext } from '../components/file-source-context.js'
import { ShareButton } from '../components/share-button.js'
import { WorkspacePanel } from '../components/workspace-panel.js'
import { WorkspaceToggle } from '../components/workspace-toggle.js'
import { useLiveSession } from '../hooks/use-live-session.js'
import { useModels } from '../hooks/use-server-info.js'
import { useUploads } from '../hooks/use-uploads.js'
import { ownerFiles } from '../lib/api.js'
import { navigate, sessionsChanged } from '../routes.js'

/**
 * The owner's screen: a new session at `/`, or a past one at
 * `/session/<id>` with its whole history, continued over the socket.
 */
export function ChatPage(props: { sessionId: string | null; drawerOpen: boolean; onMenu: () => void }) {
  const { catalog, modelId, setModelId } = useModels()
  const onExists = useCallback((id: string) => {
    navigate(`/session/${encodeURIComponent(id)}`, { replace: true })
    sessionsChanged()
  }, [])
  const live = useLiveSession(props.sessionId, modelId, onExists)
  const { markExists, touchFiles } = live
  const onSaved = useCallback(() => {
    markExists()
    touchFiles()
  }, [markExists, touchFiles])
  const uploads = useUploads(live.sessionId, onSaved)
  const [workspaceOpen, setWorkspaceOpen] = useState(false)
  const [dragging, setDragging] = useState(false)
  const readable = live.sessionId !== null && live.exists && live.loadError === null
  const source = useMemo(
    () => (readable && live.sessionId ? ownerFiles(live.sessionId) : null),
    [readable, live.sessionId],
  )

  const firstUser = live.state.items.find((item) => item.kind === 'user')
  const title = live.title
    ? live.title
    : firstUser?.kind === 'user'
      ? firstUser.text.split('\n')[0] || 'Session'
      : props.sessionId
        ? 'Session'
        : 'New session'
  const onDrop = (event: DragEvent) => {
    event.preventDefault()
    setDragging(false)
    if (event.dataTransfer.files.length > 0 && live.sessionId) uploads.add(Array.from(event.dataTransfer.files))
  }

  return (
    <div className="page">
      <AppHeader title={title} drawerOpen={props.drawerOpen} onMenu={props.onMenu}>
        {readable && live.sessionId ? <ShareButton sessionId={live.sessionId} /> : null}
        <WorkspaceToggle open={workspaceOpen} onToggle={() => setWorkspaceOpen(!workspaceOpen)} />
      </AppHeader>
      <div className="page-body">
        <main
          id="main"
          className="chat-column"
          data-dragging={dragging}
          onDragOver={(e) => {
            if (!e.dataTransfer.types.includes('Files')) return
            e.preventDefault()
            setDragging(true)
          }}
          onDragLeave={(e) => e.currentTarget === e.target && setDragging(false)}
          onDrop={onDrop}
        >
          {live.loadError ? (
            <div className="page-error">
              <ErrorNotice error={live.loadError} />
              <button type="button" className="button primary" onClick={() => navigate('/')}>
                Start a new session
              </button>
            </div>
          ) : (
            <>
              <FileSourceContext.Provider value={source}>
                <ChatView
                  items={live.state.items}
                  running={live.state.running}
                  empty={
                    live.loading ? (
                      <p>Loading the session…</p>
                    ) : (
                      <>
                        <h2>What should the agent do?</h2>
                        <p>
                          It plans, runs commands and writes files in this session’s workspace, and can deploy a small
                          site. Everything is saved: come back to it from the sessions list at any time.
                        </p>
                      </>
                    )
                  }
                />
              </FileSourceContext.Provider>
              {live.status === 'reconnecting' ? (
                <p className="connection-note" role="status">
                  Connection lost; reconnecting. Nothing is lost: the page picks up exactly where it left off.
                </p>
              ) : null}
              <Composer
                running={live.state.running}
                canUpload={live.sessionId !== null}
                uploads={uploads}
                catalog={catalog}
                modelId={modelId}
                onModel={setModelId}
                onSend={live.send}
                onCancel={live.cancel}
              />
            </>
          )}
          {dragging ? (
            <div className="drop-overlay" aria-hidden="true">
              Drop files to attach them
            </div>
          ) : null}
        </main>
        <WorkspacePanel
          source={source}
          version={live.filesVersion}
          deployUrl={live.state.deployUrl}
          open={workspaceOpen}
          onClose={() => setWorkspaceOpen(false)}
          emptyNote={
            live.loadError ? 'No files to show.' : 'Files appear here once you send a message or attach a file.'
          }
        />
      </div>
    </div>
  )
}

import { useCallback, useMemo, useState } from 'react'
import { AppHeader } from '../components/app-header.js'
import { ChatView, type Divider } from '../components/chat-view.js'
import { ErrorNotice } from '../components/error-notice.js'
import { FileSourceContext } from '../components/file-source-context.js'
import type { RecordedFile } from '../components/file-viewer.js'
import { ReplayControls } from '../components/replay-controls.js'
import { WorkspacePanel } from '../components/workspace-panel.js'
import { WorkspaceToggle } from '../components/workspace-toggle.js'
import { useSharedReplay } from '../hooks/use-shared-replay.js'
import { sharedFiles } from '../lib/api.js'
import { duration, localDate } from '../lib/format.js'
import { contentAt, normalisePath } from '../state/chat-state.js'

/** `/share/<token>`: a read-only, timed replay of a shared session that follows it live while it runs. */
export function SharePage(props: { token: string; drawerOpen: boolean; onMenu: () => void }) {
  const replay = useSharedReplay(props.token)
  const [workspaceOpen, setWorkspaceOpen] = useState(false)
  const source = useMemo(() => sharedFiles(props.token), [props.token])
  const { state, finalState, events, timeline } = replay

  const dividers = useMemo<Divider[]>(
    () =>
      timeline.gaps.flatMap((gap) => {
        const seq = events[gap.index]?.seq
        return seq === undefined ? [] : [{ seq, label: `${duration(gap.realMs)} later` }]
      }),
    [timeline, events],
  )
  const recordedAt = useCallback(
    (path: string): RecordedFile => {
      const later = finalState.files.get(normalisePath(path)) ?? []
      const now = contentAt(state, path)
      return { content: now, editedLater: now === null && later.length > 0 }
    },
    [state, finalState],
  )

  const title = replay.info?.session.title ?? firstUserText(finalState.items) ?? 'Shared session'
  return (
    <div className="page">
      <AppHeader title={title} drawerOpen={props.drawerOpen} onMenu={props.onMenu}>
        <span className="badge" title="You can watch this session but not send messages to it">
          Read-only
        </span>
        <WorkspaceToggle open={workspaceOpen} onToggle={() => setWorkspaceOpen(!workspaceOpen)} />
      </AppHeader>
      <div className="page-body">
        <main id="main" className="chat-column">
          {replay.loadError ? (
            <div className="page-error">
              <ErrorNotice error={replay.loadError} />
            </div>
          ) : (
            <>
              <p className="share-meta">
                Shared session
                {replay.info ? ` · started ${localDate(replay.info.session.created_at)}` : ''}
                {replay.info ? ` · ${events.length} events` : ''}
              </p>
              <FileSourceContext.Provider value={source}>
                <ChatView
                  items={state.items}
                  running={replay.live && state.running}
                  dividers={dividers}
                  empty={<p>{replay.loading ? 'Loading the shared session…' : 'Nothing has happened yet.'}</p>}
                />
              </FileSourceContext.Provider>
              <ReplayControls
                timeline={timeline}
                position={replay.position}
                playing={replay.playing}
                speed={replay.speed}
                live={replay.live}
                running={replay.running}
                onPlay={replay.play}
                onPause={replay.pause}
                onSeek={replay.seek}
                onSpeed={replay.setSpeed}
              />
            </>
          )}
        </main>
        <WorkspacePanel
          source={replay.loadError ? null : source}
          version={finalState.lastSeq}
          deployUrl={state.deployUrl}
          open={workspaceOpen}
          onClose={() => setWorkspaceOpen(false)}
          recordedAt={recordedAt}
        />
      </div>
    </div>
  )
}

function firstUserText(items: { kind: string; text?: string }[]): string | null {
  const first = items.find((item) => item.kind === 'user')
  return first?.text?.split('\n')[0] ?? null
}

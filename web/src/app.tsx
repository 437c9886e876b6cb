import { useState } from 'react'
import { SessionsDrawer } from './components/sessions-drawer.js'
import { ChatPage } from './pages/chat-page.js'
import { EvalPage } from './pages/eval-page.js'
import { SharePage } from './pages/share-page.js'
import { useRoute } from './routes.js'

const WIDE = '(min-width: 1100px)'

/** The shell: the sessions drawer (on every screen) and the page the address names. */
export function App() {
  const route = useRoute()
  const [drawerOpen, setDrawerOpen] = useState(() => window.matchMedia(WIDE).matches && route.page === 'chat')
  const toggle = () => setDrawerOpen((open) => !open)
  return (
    <div className="app" data-drawer={drawerOpen}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <SessionsDrawer
        open={drawerOpen}
        currentId={route.page === 'chat' ? route.sessionId : null}
        onClose={() => setDrawerOpen(false)}
      />
      {drawerOpen ? (
        <button type="button" className="drawer-backdrop" tabIndex={-1} aria-label="Close sessions" onClick={toggle} />
      ) : null}
      {route.page === 'share' ? (
        <SharePage token={route.token} drawerOpen={drawerOpen} onMenu={toggle} />
      ) : route.page === 'eval' ? (
        <EvalPage runName={route.runName} drawerOpen={drawerOpen} onMenu={toggle} />
      ) : (
        <ChatPage sessionId={route.sessionId} drawerOpen={drawerOpen} onMenu={toggle} />
      )}
    </div>
  )
}

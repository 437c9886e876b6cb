import { Fragment, useEffect, useLayoutEffect, useRef } from 'react'
import type { ChatItem } from '../state/chat-state.js'
import { ChatItemView } from './chat-item.js'

export interface Divider {
  /** Shown before the first item whose seq is at least this. */
  seq: number
  label: string
}

/**
 * The conversation. It follows the end while the reader is there and
 * leaves them alone when they scrolled up; the "working" line keeps its
 * space, so streaming never shifts the layout.
 */
export function ChatView(props: {
  items: ChatItem[]
  running: boolean
  dividers?: Divider[]
  empty?: React.ReactNode
}) {
  const scroller = useRef<HTMLDivElement>(null)
  const log = useRef<HTMLOListElement>(null)
  const atBottom = useRef(true)
  const lastTop = useRef(0)

  useLayoutEffect(() => {
    const node = scroller.current
    if (node && atBottom.current) stick(node, lastTop)
  })
  // Diffs, highlighting and previews load after the render that placed them: stay at the end as they grow.
  useEffect(() => {
    const node = scroller.current
    if (!node || !log.current) return
    const observer = new ResizeObserver(() => {
      if (atBottom.current) stick(node, lastTop)
    })
    observer.observe(log.current)
    return () => observer.disconnect()
  }, [])

  const dividers = props.dividers ?? []
  let next = 0
  return (
    <div
      className="chat-scroll"
      ref={scroller}
      onScroll={(e) => {
        // Only a move up leaves the end: content growing under our own scroll must not count as the reader's.
        const node = e.currentTarget
        if (node.scrollHeight - node.scrollTop - node.clientHeight < 48) atBottom.current = true
        else if (node.scrollTop < lastTop.current - 1) atBottom.current = false
        lastTop.current = node.scrollTop
      }}
    >
      {props.items.length === 0 ? <div className="chat-empty">{props.empty}</div> : null}
      <ol ref={log} className="chat-log" aria-label="Conversation" aria-busy={props.running}>
        {props.items.map((item) => {
          const before: Divider[] = []
          while (item.seq !== null && next < dividers.length && (dividers[next]?.seq ?? 0) <= item.seq) {
            before.push(dividers[next] as Divider)
            next++
          }
          return (
            <Fragment key={item.key}>
              {before.map((d) => (
                <li key={`gap-${d.seq}`} className="chat-divider">
                  <span>{d.label}</span>
                </li>
              ))}
              <ChatItemView item={item} />
            </Fragment>
          )
        })}
      </ol>
      <div className="working" data-active={props.running} role="status">
        {props.running ? (
          <>
            <span className="spinner" aria-hidden="true" /> The agent is working…
          </>
        ) : null}
      </div>
    </div>
  )
}

function stick(node: HTMLDivElement, lastTop: { current: number }): void {
  node.scrollTop = node.scrollHeight
  lastTop.current = node.scrollTop
}

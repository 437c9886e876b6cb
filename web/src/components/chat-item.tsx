import { memo } from 'react'
import { unsavedRunError } from '../lib/friendly-error.js'
import type { ChatItem } from '../state/chat-state.js'
import { ErrorNotice } from './error-notice.js'
import { Icon } from './icons.js'
import { RichText } from './rich-text.js'
import { ToolCardView } from './tool-card.js'

/** One entry of the conversation; memoised, so a streaming token re-renders only its own item. */
export const ChatItemView = memo(function ChatItemView({ item }: { item: ChatItem }) {
  switch (item.kind) {
    case 'user':
      return (
        <li className="msg msg-user" data-delivery={item.delivery}>
          <span className="visually-hidden">You:</span>
          <div className="bubble">{item.text}</div>
          {item.files.length > 0 ? (
            <ul className="attached" aria-label="Attached files">
              {item.files.map((file) => (
                <li key={file} className="chip">
                  <Icon name="clip" size={12} /> {file.replace(/^\/?uploaded_files\//, '')}
                </li>
              ))}
            </ul>
          ) : null}
          {item.delivery === 'failed' ? <span className="msg-note">Not sent</span> : null}
        </li>
      )
    case 'assistant':
      return (
        <li className="msg msg-agent" data-streaming={item.streaming}>
          <span className="visually-hidden">Agent:</span>
          <RichText text={item.text} />
          {item.interrupted ? <span className="msg-note">Stopped ({item.interrupted})</span> : null}
        </li>
      )
    case 'thinking':
      return (
        <li className="msg msg-thinking">
          <details>
            <summary>{item.streaming ? 'Thinking…' : 'Thought'}</summary>
            <p>{item.text}</p>
          </details>
        </li>
      )
    case 'tool':
      return (
        <li className="msg msg-tool">
          <ToolCardView tool={item.tool} />
        </li>
      )
    case 'notice':
      return (
        <li className={`msg msg-notice tone-${item.tone}`}>
          {item.tone !== 'error' ? (
            <p>{item.text}</p>
          ) : item.unsaved ? (
            <ErrorNotice error={unsavedRunError(item.code, item.text)} />
          ) : (
            <ErrorNotice code={item.code} message={item.text} />
          )}
        </li>
      )
  }
})

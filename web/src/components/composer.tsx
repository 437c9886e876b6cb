import { type FormEvent, type KeyboardEvent, useRef, useState } from 'react'
import type { useUploads } from '../hooks/use-uploads.js'
import { useCanTranscribe, useVoiceInput } from '../hooks/use-voice-input.js'
import type { ModelCatalog } from '../lib/api-types.js'
import { bytes } from '../lib/format.js'
import { ErrorNotice } from './error-notice.js'
import { Icon } from './icons.js'
import { ModelPicker, noProviderConfigured } from './model-picker.js'

/**
 * Where the user writes: Enter sends, Shift+Enter adds a line; files attach
 * by the picker (or by dropping them on the chat); Stop replaces Send while
 * the agent works, in the same place, so nothing moves. The microphone (when
 * the server can transcribe) adds what was said to what is typed.
 */
export function Composer(props: {
  running: boolean
  canUpload: boolean
  uploads: ReturnType<typeof useUploads>
  catalog: ModelCatalog | null
  modelId: string | null
  onModel: (id: string | null) => void
  onSend: (text: string, files: string[]) => void
  onCancel: () => void
}) {
  const [text, setText] = useState('')
  const picker = useRef<HTMLInputElement>(null)
  const canTranscribe = useCanTranscribe()
  const voice = useVoiceInput((said) =>
    setText((typed) => (typed === '' || /\s$/.test(typed) ? typed + said : `${typed} ${said}`)),
  )
  const { uploads } = props
  const canSend = text.trim().length > 0 && !uploads.busy && !props.running

  const submit = (event?: FormEvent) => {
    event?.preventDefault()
    if (!canSend) return
    props.onSend(text.trim(), uploads.savedPaths)
    setText('')
    uploads.clear()
  }
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault()
      submit()
    }
  }

  return (
    <form className="composer" onSubmit={submit} aria-label="Send a message">
      {noProviderConfigured(props.catalog) ? (
        <p className="composer-warning" role="alert">
          No model provider is configured. Set <code>CHUTES_API_KEY</code> (or another provider’s key, see the model
          list) in the server’s environment and restart it.
        </p>
      ) : null}
      {uploads.items.length > 0 ? (
        <ul className="upload-list" aria-label="Attached files">
          {uploads.items.map((item) => (
            <li key={item.id} className="upload-chip" data-status={item.status}>
              <span className="upload-name">{item.name}</span>
              <span className="upload-size">{bytes(item.size)}</span>
              {item.status === 'uploading' ? (
                <progress max={1} value={item.progress} aria-label={`Uploading ${item.name}`} />
              ) : null}
              {item.status === 'done' ? <span className="upload-ok">uploaded</span> : null}
              {item.error ? <span className="upload-error">{item.error}</span> : null}
              <button
                type="button"
                className="icon-button small"
                aria-label={`Remove ${item.name}`}
                onClick={() => uploads.remove(item.id)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <textarea
        className="composer-input"
        aria-label="Message"
        placeholder="Describe a task… (Enter to send, Shift+Enter for a new line)"
        rows={2}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
      />
      {voice.error ? (
        <div className="voice-error">
          <ErrorNotice error={voice.error} />
          <button type="button" className="button small" onClick={voice.dismiss}>
            Dismiss
          </button>
        </div>
      ) : null}
      <div className="composer-row">
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          aria-hidden="true"
          tabIndex={-1}
          data-testid="file-input"
          onChange={(e) => {
            uploads.add(Array.from(e.target.files ?? []))
            e.target.value = ''
          }}
        />
        <button
          type="button"
          className="button"
          disabled={!props.canUpload}
          onClick={() => picker.current?.click()}
          title="Attach files (or drop them on the chat)"
        >
          <Icon name="clip" /> Attach
        </button>
        {canTranscribe ? <VoiceButton voice={voice} /> : null}
        <ModelPicker catalog={props.catalog} value={props.modelId} onChange={props.onModel} />
        <span className="spacer" />
        {props.running ? (
          <button type="button" className="button danger send-button" onClick={props.onCancel}>
            ■ Stop
          </button>
        ) : (
          <button type="submit" className="button primary send-button" disabled={!canSend}>
            Send
          </button>
        )}
      </div>
    </form>
  )
}

/** The microphone: press to record, press again to stop and transcribe; its label says which state it is in. */
function VoiceButton({ voice }: { voice: ReturnType<typeof useVoiceInput> }) {
  const { state } = voice
  const label =
    state === 'recording'
      ? 'Stop recording and transcribe'
      : state === 'sending'
        ? 'Transcribing…'
        : state === 'starting'
          ? 'Starting the microphone…'
          : 'Voice input'
  return (
    <>
      <button
        type="button"
        className="button voice-button"
        data-state={state}
        aria-label={label}
        aria-pressed={state === 'recording'}
        title={state === 'idle' ? 'Speak instead of typing (press again to stop)' : label}
        disabled={state === 'sending' || state === 'starting'}
        onClick={() => (state === 'recording' ? voice.stop() : void voice.start())}
      >
        {state === 'sending' || state === 'starting' ? (
          <span className="spinner" aria-hidden="true" />
        ) : (
          <Icon name="mic" />
        )}
        {state === 'recording' ? ' Stop' : state === 'sending' ? ' Transcribing…' : null}
      </button>
      <span className="visually-hidden" role="status">
        {state === 'recording' ? 'Recording' : state === 'sending' ? 'Transcribing' : ''}
      </span>
    </>
  )
}

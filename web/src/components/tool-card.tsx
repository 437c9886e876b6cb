import { useContext, useEffect, useState } from 'react'
import { ApiError } from '../lib/api.js'
import { siteHref } from '../lib/deploy-url.js'
import { mediaRefsOf } from '../lib/media-refs.js'
import type { ToolCard, ToolImageRef } from '../state/chat-state.js'
import { FileDiff } from './file-diff.js'
import { FileSourceContext } from './file-source-context.js'
import { MediaPreview } from './media-preview.js'
import { RichText } from './rich-text.js'

const STATUS_LABEL = { running: 'running', done: 'done', error: 'failed', interrupted: 'stopped' } as const

/**
 * A tool call: its name and gist in a header that folds the body; shell
 * commands with their output, file edits as diffs, deploys as a link with a
 * preview, anything else as its input and result; below, the images the tool
 * returned, and the images, audio and video it wrote or names by workspace URL.
 */
export function ToolCardView({ tool }: { tool: ToolCard }) {
  const [open, setOpen] = useState(true)
  const bodyId = `tool-${tool.id}`
  return (
    <article className="tool-card" data-status={tool.status} data-tool={tool.name}>
      <h3 className="tool-head">
        <button type="button" aria-expanded={open} aria-controls={bodyId} onClick={() => setOpen(!open)}>
          <span className="tool-name">{toolLabel(tool.name)}</span>
          <span className="tool-gist">{gist(tool)}</span>
          <span className={`tool-status status-${tool.status}`}>
            {tool.status === 'running' ? <span className="spinner" aria-hidden="true" /> : null}
            {STATUS_LABEL[tool.status]}
          </span>
        </button>
      </h3>
      {open ? (
        <div className="tool-body" id={bodyId}>
          <ToolBody tool={tool} />
          {tool.name.startsWith('browser_') ? <BrowserUrl tool={tool} /> : null}
          {tool.images.length > 0 ? <ToolImages images={tool.images} /> : null}
          {tool.status === 'done' ? <ToolMedia tool={tool} /> : null}
        </div>
      ) : null}
    </article>
  )
}

function ToolBody({ tool }: { tool: ToolCard }) {
  const input = tool.input
  switch (tool.name) {
    case 'bash':
      return (
        <pre className="terminal">
          <span className="prompt">$ {str(input.command)}</span>
          {'\n'}
          {tool.result ?? tool.output}
        </pre>
      )
    case 'str_replace_editor': {
      const command = str(input.command)
      if (command === 'view') return <ResultBlock tool={tool} />
      return (
        <>
          <FileDiff edit={tool.edit} input={input} />
          {tool.status === 'error' ? <ResultBlock tool={tool} /> : null}
        </>
      )
    }
    case 'static_deploy':
      return tool.deployUrl ? <DeployResult url={tool.deployUrl} /> : <ResultBlock tool={tool} />
    case 'message_user':
      return <RichText text={str(input.text)} />
    case 'complete':
      return <RichText text={str(input.answer)} />
    case 'display_image':
      // The header names the file; the image itself follows the body.
      return <ResultBlock tool={tool} />
    default:
      return (
        <>
          {Object.keys(input).length > 0 ? <pre className="tool-input">{JSON.stringify(input, null, 2)}</pre> : null}
          <ResultBlock tool={tool} />
        </>
      )
  }
}

function ResultBlock({ tool }: { tool: ToolCard }) {
  const text = tool.result ?? tool.output
  if (!text) return null
  return <pre className={`tool-result${tool.status === 'error' ? ' is-error' : ''}`}>{text}</pre>
}

/** The formats a tool's image can have (src/agent/image-attachments.ts); nothing else goes into a data URL. */
const SHOWN_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

function ToolImages({ images }: { images: ToolImageRef[] }) {
  return (
    <div className="tool-images">
      {images.map((image) => (
        <ToolImage key={image.path} image={image} />
      ))}
    </div>
  )
}

/**
 * One image a tool returned, read from the workspace through the page's file
 * source (the owner's `/api/files/content`, or the share link's), so it shows
 * alike in the chat and in a shared replay.
 */
function ToolImage({ image }: { image: ToolImageRef }) {
  const source = useContext(FileSourceContext)
  const [shown, setShown] = useState<{ src: string } | { error: string } | null>(null)
  useEffect(() => {
    if (source === null) return
    let current = true
    setShown(null)
    source
      .content(image.path)
      .then((file) => {
        if (!current) return
        const type = SHOWN_TYPES.has(image.mediaType) ? image.mediaType : null
        if (file.encoding !== 'base64' || type === null) setShown({ error: 'it is not an image any more' })
        else setShown({ src: `data:${type};base64,${file.content}` })
      })
      .catch((error: unknown) => {
        if (!current) return
        // Too large to inline (a big generated image): the browser loads it by URL instead.
        if (error instanceof ApiError && error.code === 'FILE_TOO_LARGE') setShown({ src: source.fileUrl(image.path) })
        else setShown({ error: error instanceof Error ? error.message : String(error) })
      })
    return () => {
      current = false
    }
  }, [source, image.path, image.mediaType])
  return (
    <figure className="tool-image">
      {shown !== null && 'src' in shown ? <img src={shown.src} alt={image.path} /> : null}
      {shown !== null && 'error' in shown ? (
        <p className="tool-image-note">Cannot show this image: {shown.error}</p>
      ) : null}
      <figcaption>{image.path}</figcaption>
    </figure>
  )
}

/**
 * The generated (or otherwise named) media of a finished call, loaded by URL
 * from the page's file source, so they show and play alike in the chat and in
 * a shared replay. The card's id keeps a browser's cached copy of an earlier
 * file of the same name out.
 */
function ToolMedia({ tool }: { tool: ToolCard }) {
  const source = useContext(FileSourceContext)
  const refs = mediaRefsOf(
    tool.input,
    tool.result,
    tool.images.map((image) => image.path),
  )
  if (source === null || refs.length === 0) return null
  return (
    <div className="tool-media">
      {refs.map((ref) => (
        <MediaPreview
          key={ref.path}
          kind={ref.kind}
          path={ref.path}
          quiet={ref.origin === 'url'}
          url={withParam(source.fileUrl(ref.path), 'v', tool.id)}
        />
      ))}
    </div>
  )
}

function withParam(url: string, name: string, value: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`
}

/**
 * A browser step's card: the address the page was at (its result's `URL:` line, see
 * src/tools/browser/page-report.ts) above the screenshot; a link only for http(s).
 */
function BrowserUrl({ tool }: { tool: ToolCard }) {
  const url = /^URL: (\S+)$/m.exec(tool.result ?? '')?.[1]
  if (url === undefined) return null
  return (
    <p className="browser-url">
      URL:{' '}
      {/^https?:\/\//i.test(url) ? (
        <a href={url} target="_blank" rel="noopener noreferrer">
          {url}
        </a>
      ) : (
        url
      )}
    </p>
  )
}

function DeployResult({ url }: { url: string }) {
  const href = siteHref(url, location.origin)
  return (
    <div className="deploy">
      <a className="button primary" href={href} target="_blank" rel="noopener noreferrer">
        Open deployed site ↗
      </a>
      <span className="deploy-url">{url}</span>
      <iframe
        className="deploy-preview"
        src={href}
        title="Deployed site preview"
        loading="lazy"
        sandbox="allow-scripts allow-forms"
      />
    </div>
  )
}

function toolLabel(name: string): string {
  const labels: Record<string, string> = {
    bash: 'Shell',
    str_replace_editor: 'Edit file',
    static_deploy: 'Deploy',
    message_user: 'Message',
    complete: 'Answer',
    web_search: 'Web search',
    visit_webpage: 'Visit page',
    sequential_thinking: 'Thinking',
    list_files: 'List files',
    display_image: 'Image',
    generate_image_from_text: 'Generate image',
    generate_audio_response: 'Generate speech',
    generate_video_from_text: 'Generate video',
    audio_transcribe: 'Transcribe',
  }
  return labels[name] ?? name
}

function gist(tool: ToolCard): string {
  const input = tool.input
  switch (tool.name) {
    case 'bash':
      return str(input.command).split('\n')[0] ?? ''
    case 'str_replace_editor':
      return `${str(input.command)} ${str(input.path)}`
    case 'static_deploy':
      return str(input.file_path)
    case 'web_search':
      return str(input.query)
    case 'visit_webpage':
      return str(input.url)
    case 'display_image':
      return str(input.image_path)
    case 'generate_image_from_text':
    case 'generate_audio_response':
    case 'generate_video_from_text':
      return str(input.output_filename)
    case 'audio_transcribe':
      return str(input.file_path)
    case 'browser_navigation':
    case 'browser_restart':
      return str(input.url)
    case 'browser_click':
      return `${str(input.coordinate_x)}, ${str(input.coordinate_y)}`
    default:
      return ''
  }
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : value == null ? '' : JSON.stringify(value)
}

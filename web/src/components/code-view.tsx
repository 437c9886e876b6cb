import { useEffect, useState } from 'react'
import { languageOf } from '../lib/file-kind.js'

/** Larger files are shown plain: highlighting them would freeze the page for little gain. */
const HIGHLIGHT_LIMIT = 200_000

/** A text file with line numbers and syntax highlighting (the highlighter loads on first use). */
export function CodeView({ path, text }: { path: string; text: string }) {
  const [html, setHtml] = useState<string | null>(null)
  const language = languageOf(path)
  useEffect(() => {
    setHtml(null)
    if (!language || text.length > HIGHLIGHT_LIMIT) return
    let live = true
    void import('../lib/highlight.js').then(({ highlight }) => live && setHtml(highlight(text, language)))
    return () => {
      live = false
    }
  }, [text, language])
  const lineCount = Math.max(1, text.split('\n').length - (text.endsWith('\n') ? 1 : 0))
  return (
    <div className="code-view">
      <pre className="line-numbers" aria-hidden="true">
        {Array.from({ length: lineCount }, (_, i) => i + 1).join('\n')}
      </pre>
      {html !== null ? (
        // biome-ignore lint/security/noDangerouslySetInnerHtml: highlight.js escapes the source text
        <pre className="code hljs" dangerouslySetInnerHTML={{ __html: html }} />
      ) : (
        <pre className="code">{text}</pre>
      )}
    </div>
  )
}

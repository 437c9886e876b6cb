import type { ReactNode } from 'react'

/**
 * The agent's text with the little markdown it mostly uses: fenced code
 * blocks, inline code and bare links. No HTML is ever interpreted.
 */
export function RichText({ text }: { text: string }) {
  const parts = text.split(/```[^\n]*\n?([\s\S]*?)(?:```|$)/g)
  return (
    <div className="rich-text">
      {parts.map((part, i) =>
        i % 2 === 1 ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one text never reorder
          <pre key={i} className="code-block">
            <code>{part.replace(/\n$/, '')}</code>
          </pre>
        ) : part ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: as above
          <p key={i}>{inline(part)}</p>
        ) : null,
      )}
    </div>
  )
}

function inline(text: string): ReactNode[] {
  const out: ReactNode[] = []
  const pattern = /(`[^`\n]+`)|(https?:\/\/[^\s<>"')\]]+)|(\*\*[^*\n]+\*\*)/g
  let last = 0
  for (const match of text.matchAll(pattern)) {
    const index = match.index ?? 0
    if (index > last) out.push(text.slice(last, index))
    const [token] = match
    if (match[1]) out.push(<code key={index}>{token.slice(1, -1)}</code>)
    else if (match[2])
      out.push(
        <a key={index} href={token} target="_blank" rel="noreferrer noopener">
          {token}
        </a>,
      )
    else out.push(<strong key={index}>{token.slice(2, -2)}</strong>)
    last = index + token.length
  }
  if (last < text.length) out.push(text.slice(last))
  return out
}

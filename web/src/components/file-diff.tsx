import { useEffect, useState } from 'react'
import type { FileEdit } from '../state/chat-state.js'

interface Line {
  kind: 'add' | 'del' | 'same' | 'skip'
  text: string
}

const CONTEXT = 3

/**
 * A file edit as a diff: against the previous version the log recorded,
 * else the editor's own old and new strings; a new file is all additions.
 * The diff library loads on first use, keeping it out of the main bundle.
 */
export function FileDiff({ edit, input }: { edit: FileEdit | null; input: Record<string, unknown> }) {
  const [lines, setLines] = useState<Line[] | null>(null)
  const path = edit?.path ?? String(input.path ?? '')
  const before = edit?.before ?? (input.command === 'str_replace' ? String(input.old_str ?? '') : null)
  const after =
    edit?.after ??
    (input.command === 'str_replace' ? String(input.new_str ?? '') : String(input.file_text ?? input.new_str ?? ''))

  useEffect(() => {
    let live = true
    if (before === null) {
      setLines(splitLines(after).map((text) => ({ kind: 'add', text })))
      return
    }
    void import('diff').then(({ diffLines }) => {
      if (!live) return
      const out: Line[] = []
      for (const part of diffLines(before, after)) {
        const kind = part.added ? 'add' : part.removed ? 'del' : 'same'
        for (const text of splitLines(part.value)) out.push({ kind, text })
      }
      setLines(foldUnchanged(out))
    })
    return () => {
      live = false
    }
  }, [before, after])

  const added = lines?.filter((l) => l.kind === 'add').length ?? 0
  const removed = lines?.filter((l) => l.kind === 'del').length ?? 0
  return (
    <figure className="diff">
      <figcaption>
        <span className="diff-path">{path}</span>
        <span className="diff-stat">
          <span className="add">+{added}</span> <span className="del">−{removed}</span>
        </span>
      </figcaption>
      <pre className="diff-lines">
        {(lines ?? []).map((line, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the lines of one diff never reorder
          <span key={i} className={`diff-${line.kind}`}>
            <span className="diff-sign" aria-hidden="true">
              {line.kind === 'add' ? '+' : line.kind === 'del' ? '−' : ' '}
            </span>
            <span className="visually-hidden">
              {line.kind === 'add' ? 'added: ' : line.kind === 'del' ? 'removed: ' : ''}
            </span>
            {line.text}
            {'\n'}
          </span>
        ))}
      </pre>
    </figure>
  )
}

function splitLines(text: string): string[] {
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines
}

/** Long runs of unchanged lines become one "⋯ n unchanged lines" marker, keeping a little context. */
function foldUnchanged(lines: Line[]): Line[] {
  const out: Line[] = []
  let i = 0
  while (i < lines.length) {
    if (lines[i]?.kind !== 'same') {
      out.push(lines[i] as Line)
      i++
      continue
    }
    let j = i
    while (j < lines.length && lines[j]?.kind === 'same') j++
    const run = lines.slice(i, j)
    const head = i === 0 ? 0 : CONTEXT
    const tail = j === lines.length ? 0 : CONTEXT
    if (run.length > head + tail + 1) {
      out.push(...run.slice(0, head), { kind: 'skip', text: `⋯ ${run.length - head - tail} unchanged lines` })
      out.push(...run.slice(run.length - tail))
    } else {
      out.push(...run)
    }
    i = j
  }
  return out
}

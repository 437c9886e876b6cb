import { useCallback, useEffect, useState } from 'react'
import { ApiError, type FileSource } from '../lib/api.js'
import type { FileNode } from '../lib/api-types.js'
import { bytes } from '../lib/format.js'
import { friendlyError } from '../lib/friendly-error.js'
import { Icon } from './icons.js'

/**
 * The workspace as a tree loaded one folder at a time (depth 1 per
 * request). A new `version` reloads the root and every open folder, keeping
 * what is open.
 */
export function FileTree(props: {
  source: FileSource
  version: number
  selected: string | null
  onSelect: (path: string) => void
}) {
  const { source, version } = props
  const [children, setChildren] = useState<Map<string, FileNode[]>>(new Map())
  const [open, setOpen] = useState<Set<string>>(new Set())
  const [error, setError] = useState<string | null>(null)

  const load = useCallback(
    async (path: string) => {
      try {
        const nodes = await source.list(path)
        setChildren((map) => new Map(map).set(path, nodes))
        setError(null)
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError(0, 'NETWORK', String(e))
        // A workspace with nothing in it yet has no folder: that is an empty tree, not an error.
        if (err.code === 'FILE_NOT_FOUND' || err.code === 'WORKSPACE_NOT_FOUND' || err.code === 'SESSION_NOT_FOUND') {
          setChildren((map) => new Map(map).set(path, []))
          return
        }
        setError(friendlyError(err.code, err.message).detail)
      }
    },
    [source],
  )

  // biome-ignore lint/correctness/useExhaustiveDependencies: another workspace starts with nothing open
  useEffect(() => {
    setChildren(new Map())
    setOpen(new Set())
  }, [source])

  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` is the reload signal; `open` is read, not watched
  useEffect(() => {
    // A run bumps `version` at every tool result: reload once things settle, not at each one.
    const timer = setTimeout(
      () => {
        void load('')
        for (const path of open) void load(path)
      },
      version === 0 ? 0 : 250,
    )
    return () => clearTimeout(timer)
  }, [load, version])

  const toggle = (path: string) => {
    const next = new Set(open)
    if (next.has(path)) next.delete(path)
    else {
      next.add(path)
      void load(path)
    }
    setOpen(next)
  }

  const renderLevel = (path: string, depth: number) => {
    const nodes = children.get(path)
    if (!nodes) return <p className="tree-note">Loading…</p>
    if (nodes.length === 0 && depth === 0) return <p className="tree-note">No files yet.</p>
    return (
      <ul className="tree-level" role={depth === 0 ? undefined : 'group'}>
        {nodes.map((node) => (
          <li key={node.path}>
            {node.type === 'folder' ? (
              <>
                <button
                  type="button"
                  className="tree-item folder"
                  aria-expanded={open.has(node.path)}
                  onClick={() => toggle(node.path)}
                  style={{ paddingInlineStart: `${0.5 + depth}rem` }}
                >
                  <span className="tree-chevron" data-open={open.has(node.path)}>
                    <Icon name="chevron" size={12} />
                  </span>
                  <Icon name="folder" /> {node.name}
                </button>
                {open.has(node.path) ? renderLevel(node.path, depth + 1) : null}
              </>
            ) : (
              <button
                type="button"
                className="tree-item file"
                aria-current={props.selected === node.path ? 'true' : undefined}
                onClick={() => props.onSelect(node.path)}
                style={{ paddingInlineStart: `${0.5 + depth}rem` }}
              >
                <span className="tree-chevron" />
                <Icon name="file" /> {node.name}
                <span className="tree-size">{bytes(node.size)}</span>
              </button>
            )}
          </li>
        ))}
      </ul>
    )
  }

  return (
    <div className="file-tree">
      {error ? (
        <p className="tree-note" role="alert">
          {error}
        </p>
      ) : null}
      {renderLevel('', 0)}
    </div>
  )
}

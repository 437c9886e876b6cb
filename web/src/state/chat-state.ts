/** A tool call's card: pending output while it runs, then its result (tool state machine: running → done | error | interrupted). */
export interface ToolCard {
  id: string
  name: string
  input: Record<string, unknown>
  status: 'running' | 'done' | 'error' | 'interrupted'
  /** The stored result, once it arrived. */
  result: string | null
  /** Live shell output (`tool_output_delta`) while the call runs. */
  output: string
  /** For the editor: the file before and after, from `file_edit`. */
  edit: FileEdit | null
  /** For `static_deploy`: the public URL it returned. */
  deployUrl: string | null
  /** Images the tool returned (`tool_result.images`): workspace files, shown from the file routes. */
  images: ToolImageRef[]
}

export interface ToolImageRef {
  /** Workspace-relative. */
  path: string
  mediaType: string
}

export interface FileEdit {
  path: string
  /** The previous `file_edit` content of this path, or null when this session never recorded it. */
  before: string | null
  after: string
}

export interface FileVersion {
  seq: number
  content: string
}

interface ItemBase {
  /** Stable React key: `s<seq>` for stored items, `l<n>` for items that began live. */
  key: string
  /** Position in the event log; null while only streamed or sent locally. */
  seq: number | null
}

export type ChatItem =
  | (ItemBase & { kind: 'user'; text: string; files: string[]; delivery: 'sending' | 'sent' | 'failed' })
  | (ItemBase & { kind: 'assistant'; text: string; streaming: boolean; interrupted: string | null })
  | (ItemBase & { kind: 'thinking'; text: string; streaming: boolean })
  | (ItemBase & { kind: 'tool'; tool: ToolCard })
  | (ItemBase & {
      kind: 'notice'
      tone: 'info' | 'error'
      text: string
      code: string | null
      /** Said live about a run whose end the server could not store (a full disk): gone after a reload. */
      unsaved: boolean
    })

export interface ChatState {
  items: ChatItem[]
  /** Highest `seq` applied: stored events at or below it are duplicates. */
  lastSeq: number
  running: boolean
  /** tool_call_id → index in `items`. */
  toolIndex: Map<string, number>
  /** Every `file_edit` so far, by workspace-relative path, in log order: files "as of" this state. */
  files: Map<string, FileVersion[]>
  /** The last URL `static_deploy` returned. */
  deployUrl: string | null
  /** Timestamp of the last stored event. */
  lastEventAt: string | null
  nextLocalKey: number
}

export const emptyChat: ChatState = {
  items: [],
  lastSeq: 0,
  running: false,
  toolIndex: new Map(),
  files: new Map(),
  deployUrl: null,
  lastEventAt: null,
  nextLocalKey: 0,
}

/**
 * A file's content as of this state: its last `file_edit`, or null when the
 * log never carried it (then the viewer reads the file from the workspace).
 *
 * @example
 *   contentAt(state, 'site/index.html') // '<h1>Hello</h1>\n'
 */
export function contentAt(state: ChatState, path: string): string | null {
  const versions = state.files.get(normalisePath(path))
  return versions?.[versions.length - 1]?.content ?? null
}

/** Workspace-relative, no leading `./` or `/`. */
export function normalisePath(path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/^\/+/, '')
}

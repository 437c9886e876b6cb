import { type MediaKind, mediaKind } from './file-kind.js'

export interface MediaRef {
  /** Workspace-relative, no leading `./` or `/`. */
  path: string
  kind: MediaKind
  /** `output`: the file the tool says it wrote; `url`: named in its result, perhaps not a file of this workspace. */
  origin: 'output' | 'url'
}

/** The tool input fields that name a file the tool wrote (generate_image_from_text, generate_audio_response, …). */
const OUTPUT_FIELDS = ['output_filename', 'output_path']

/**
 * The workspace images, audio and video a finished tool call names: the file
 * it wrote (`output_filename`) and any `/workspace/<session>/<path>` URL in its
 * result, each once, in that order. `skip` holds paths already shown (the
 * images a tool returned).
 *
 * @example
 *   mediaRefsOf({ output_filename: 'out/hi.mp3' }, 'Saved to out/hi.mp3 (http://h/workspace/s1/out/hi.mp3)')
 *   // [{ path: 'out/hi.mp3', kind: 'audio', origin: 'output' }]
 */
export function mediaRefsOf(
  input: Record<string, unknown>,
  result: string | null,
  skip: readonly string[] = [],
): MediaRef[] {
  const seen = new Set(skip.map(workspacePath))
  const refs: MediaRef[] = []
  const add = (candidate: string, origin: MediaRef['origin']) => {
    const path = workspacePath(candidate)
    const kind = mediaKind(path)
    if (path === '' || kind === null || seen.has(path) || path.split('/').includes('..')) return
    seen.add(path)
    refs.push({ path, kind, origin })
  }
  for (const field of OUTPUT_FIELDS) {
    const value = input[field]
    if (typeof value === 'string') add(value, 'output')
  }
  for (const match of (result ?? '').matchAll(/\/workspace\/[^/\s]+\/([^\s"'<>()?#]+)/g)) {
    try {
      // A sentence's closing punctuation is not part of the URL.
      add(decodeURIComponent((match[1] ?? '').replace(/[.,;:!]+$/, '')), 'url')
    } catch {
      // a malformed escape is no file name
    }
  }
  return refs
}

function workspacePath(path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/^\/+/, '')
}

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
 * The workspace images, audio and video a finished tool call names, each
 * once: the `/workspace/<session>/<path>` URLs in its result (the media tools
 * name the file they saved that way, which may differ from the name asked
 * for when the service made another format), else the file it was asked to
 * write (`output_filename`). `skip` holds paths already shown (the images a
 * tool returned).
 *
 * @example
 *   mediaRefsOf({ output_filename: 'out/hi.mp3' }, 'Saved to out/hi.mp3 (audio/mpeg, 5 KB). URL: http://h/workspace/s1/out/hi.mp3')
 *   // [{ path: 'out/hi.mp3', kind: 'audio', origin: 'output' }]
 */
export function mediaRefsOf(
  input: Record<string, unknown>,
  result: string | null,
  skip: readonly string[] = [],
): MediaRef[] {
  const seen = new Set(skip.map(workspacePath))
  const refs: MediaRef[] = []
  /** Whether the result named any media file (shown already or not). */
  let named = false
  const add = (candidate: string, origin: MediaRef['origin']) => {
    const path = workspacePath(candidate)
    const kind = mediaKind(path)
    if (path === '' || kind === null || path.split('/').includes('..')) return
    named = true
    if (seen.has(path)) return
    seen.add(path)
    refs.push({ path, kind, origin })
  }
  const outputs = OUTPUT_FIELDS.map((field) => input[field]).filter((value) => typeof value === 'string')
  // A tool that writes files names its own output; anything else may quote a URL of another workspace.
  const origin = outputs.length > 0 ? 'output' : 'url'
  for (const match of (result ?? '').matchAll(/\/workspace\/[^/\s]+\/([^\s"'<>()?#]+)/g)) {
    try {
      // A sentence's closing punctuation is not part of the URL.
      add(decodeURIComponent((match[1] ?? '').replace(/[.,;:!]+$/, '')), origin)
    } catch {
      // a malformed escape is no file name
    }
  }
  if (!named) for (const output of outputs) add(output, 'output')
  return refs
}

function workspacePath(path: string): string {
  return path.replace(/^(\.\/)+/, '').replace(/^\/+/, '')
}

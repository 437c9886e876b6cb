/** An error as the UI shows it: what happened, in plain words, and what to do about it. */
export interface FriendlyError {
  title: string
  detail: string
  action: string | null
  code: string | null
  /** Said after the rest, e.g. that this message was not saved. */
  note: string | null
}

/** `unless`: the server's own message already says what to do. */
const ADVICE: Record<string, { title: string; action: string | null; unless?: RegExp }> = {
  LLM_NOT_CONFIGURED: {
    title: 'The model is not set up',
    action: 'Set the API key named above in the server’s environment and restart it, or pick a configured model.',
  },
  LLM_REQUEST_FAILED: {
    title: 'The model provider failed to answer',
    action: 'Send the message again in a moment, or pick another model.',
  },
  LLM_TIMEOUT: {
    title: 'The model took too long to answer',
    action: 'Send the message again, or pick a faster model.',
  },
  LLM_ABORTED: { title: 'The model request was stopped', action: null },
  QUERY_IN_PROGRESS: {
    title: 'The agent is still working',
    action: 'Wait for the current task to finish, or press Stop, then send again.',
  },
  NO_ACTIVE_QUERY: { title: 'Nothing is running', action: null },
  ACCESS_DENIED: {
    title: 'This session belongs to another device',
    action: 'Open it from the browser that created it, or ask its owner for a share link.',
    unless: /share link/i,
  },
  AUTH_REQUIRED: {
    title: 'This server needs its access token',
    action: 'Open /login?token=<your token> once in this browser, then reload.',
  },
  SESSION_NOT_FOUND: { title: 'This session does not exist', action: 'It may have been deleted. Start a new session.' },
  SHARE_NOT_FOUND: {
    title: 'This share link does not work',
    action: 'It was revoked, has expired or never existed. Ask the owner for a new link.',
  },
  PAYLOAD_TOO_LARGE: {
    title: 'The file is too large',
    action: 'Upload a smaller file, or ask the admin to raise BERTH_UPLOAD_LIMIT.',
  },
  WORKSPACE_QUOTA_EXCEEDED: {
    title: 'The workspace is full',
    action: 'Delete files or old sessions, or ask the admin to raise the workspace quota.',
  },
  FILE_TOO_LARGE: { title: 'The file is too large to show here', action: 'Download it instead.' },
  FILE_NOT_FOUND: { title: 'The file is gone', action: 'Refresh the file list.' },
  DISK_FULL: {
    title: 'The server’s disk is full',
    action: 'Free space on the server; nothing already saved was lost.',
  },
  RUNS_SHUT_DOWN: { title: 'The server is restarting', action: 'Wait a few seconds; the page reconnects by itself.' },
  MEDIA_NOT_CONFIGURED: {
    title: 'This server has no media provider for that',
    action: 'Ask the admin to configure one (see the README’s media settings).',
  },
  MEDIA_REQUEST_FAILED: { title: 'The media service failed to answer', action: 'Try again in a moment.' },
  MEDIA_TIMEOUT: { title: 'The media service took too long', action: 'Try again, perhaps with a shorter recording.' },
  MEDIA_REFUSED: { title: 'The media service refused the request', action: null },
  MEDIA_INVALID_OUTPUT: { title: 'The media service answered something unusable', action: 'Try again.' },
  // Voice input in the browser (hooks/use-voice-input.ts): no server code.
  MIC_DENIED: {
    title: 'Microphone access was denied',
    action: 'Allow the microphone for this site in the browser’s site settings, then press the microphone again.',
  },
  MIC_MISSING: { title: 'No microphone was found', action: 'Connect a microphone, then try again.' },
  MIC_BUSY: {
    title: 'The microphone cannot be used right now',
    action: 'Another program may be using it. Close it, then try again.',
  },
  MIC_UNSUPPORTED: {
    title: 'Voice input is not available here',
    action: 'Recording needs a secure page (HTTPS or localhost) in a current browser.',
  },
  NO_SPEECH: { title: 'No words were recognised', action: 'Speak closer to the microphone and try again.' },
  NETWORK: { title: 'The server cannot be reached', action: 'Check that it is running; the page retries by itself.' },
}

/**
 * Turn an error code and the server's message into plain words with advice.
 *
 * @example
 *   friendlyError('LLM_NOT_CONFIGURED', 'Set CHUTES_API_KEY to use chutes …').action
 */
export function friendlyError(code: string | null | undefined, message: string): FriendlyError {
  const advice = code ? ADVICE[code] : undefined
  return {
    title: advice?.title ?? 'Something went wrong',
    detail: message,
    action: advice?.unless?.test(message) ? null : (advice?.action ?? null),
    code: code ?? null,
    note: null,
  }
}

/**
 * The error a run stopped with when the server could not store its end (a
 * full disk): the run is over, and this message exists only on this page.
 *
 * @example
 *   unsavedRunError('DISK_FULL', 'Could not write …').title // 'The run stopped: the server’s disk is full'
 */
export function unsavedRunError(code: string | null | undefined, message: string): FriendlyError {
  const error = friendlyError(code, message)
  const known = code ? ADVICE[code] !== undefined : false
  const why = known ? error.title.charAt(0).toLowerCase() + error.title.slice(1) : 'something went wrong'
  return {
    ...error,
    title: `The run stopped: ${why}`,
    note: 'This message was not saved: the server could not write it, so it will be gone when you reload.',
  }
}

import { ApiError } from './api.js'
import { deviceId } from './device-id.js'

export interface SavedUpload {
  /** `/uploaded_files/<name>` */
  path: string
  /** `uploaded_files/<name>`: what a query's `files` lists. */
  saved_path: string
  size: number
}

/**
 * Upload files into a session's `uploaded_files/` with the streaming
 * multipart form (the `session_id` field first), reporting progress as the
 * bytes leave the browser. `fetch` cannot report upload progress; XHR can.
 * The session is created for this device if it does not exist yet.
 *
 * @example
 *   const saved = await uploadFiles(sessionId, [file], (p) => setProgress(p))
 */
export function uploadFiles(
  sessionId: string,
  files: readonly File[],
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<SavedUpload[]> {
  const form = new FormData()
  form.append('session_id', sessionId)
  for (const file of files) form.append('file', file, file.name)
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', '/api/upload')
    xhr.setRequestHeader('x-device-id', deviceId())
    xhr.responseType = 'json'
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total)
    }
    xhr.onload = () => {
      const body = (xhr.response ?? {}) as { files?: SavedUpload[]; code?: string; message?: string }
      if (xhr.status >= 200 && xhr.status < 300 && Array.isArray(body.files)) {
        onProgress(1)
        resolve(body.files)
      } else {
        reject(new ApiError(xhr.status, body.code ?? `HTTP_${xhr.status}`, body.message ?? 'The upload failed.'))
      }
    }
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'The upload was interrupted: the server cannot be reached.'))
    xhr.onabort = () => reject(new ApiError(0, 'ABORTED', 'The upload was cancelled.'))
    signal?.addEventListener('abort', () => xhr.abort())
    xhr.send(form)
  })
}

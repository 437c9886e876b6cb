import { useCallback, useRef, useState } from 'react'
import { ApiError } from '../lib/api.js'
import { friendlyError } from '../lib/friendly-error.js'
import { uploadFiles } from '../lib/upload.js'

export interface UploadItem {
  id: number
  name: string
  size: number
  progress: number
  status: 'uploading' | 'done' | 'error'
  /** `uploaded_files/<name>` once saved (the server may rename on a clash). */
  savedPath: string | null
  error: string | null
}

/**
 * Files being attached to the next message: each upload runs at once (one
 * request per file, so each has its own progress and can fail alone).
 */
export function useUploads(sessionId: string | null, onSaved: () => void) {
  const [items, setItems] = useState<UploadItem[]>([])
  const counter = useRef(0)
  const controllers = useRef(new Map<number, AbortController>())

  const patch = useCallback((id: number, change: Partial<UploadItem>) => {
    setItems((list) => list.map((item) => (item.id === id ? { ...item, ...change } : item)))
  }, [])

  const add = useCallback(
    (files: readonly File[]) => {
      if (!sessionId) return
      for (const file of files) {
        const id = ++counter.current
        const controller = new AbortController()
        controllers.current.set(id, controller)
        setItems((list) => [
          ...list,
          { id, name: file.name, size: file.size, progress: 0, status: 'uploading', savedPath: null, error: null },
        ])
        uploadFiles(sessionId, [file], (progress) => patch(id, { progress }), controller.signal)
          .then((saved) => {
            patch(id, { status: 'done', progress: 1, savedPath: saved[0]?.saved_path ?? null })
            onSaved()
          })
          .catch((error: unknown) => {
            const e = error instanceof ApiError ? error : new ApiError(0, 'NETWORK', String(error))
            if (e.code === 'ABORTED') return
            const friendly = friendlyError(e.code, e.message)
            patch(id, {
              status: 'error',
              error: friendly.action ? `${friendly.detail} ${friendly.action}` : friendly.detail,
            })
          })
          .finally(() => controllers.current.delete(id))
      }
    },
    [sessionId, patch, onSaved],
  )

  const remove = useCallback((id: number) => {
    controllers.current.get(id)?.abort()
    setItems((list) => list.filter((item) => item.id !== id))
  }, [])

  const clear = useCallback(() => setItems([]), [])
  const busy = items.some((item) => item.status === 'uploading')
  const savedPaths = items.flatMap((item) => (item.status === 'done' && item.savedPath ? [item.savedPath] : []))
  return { items, add, remove, clear, busy, savedPaths }
}

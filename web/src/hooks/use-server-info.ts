import { useEffect, useState } from 'react'
import { serverApi } from '../lib/api.js'
import type { ModelCatalog, ReadyReport } from '../lib/api-types.js'

/** `/readyz`, polled each minute: storage mode for the indicator, and whether the server answers at all. */
export function useReady(): ReadyReport | null | 'unreachable' {
  const [report, setReport] = useState<ReadyReport | null | 'unreachable'>(null)
  useEffect(() => {
    let stop = false
    const poll = () =>
      serverApi
        .ready()
        .then((r) => !stop && setReport(r))
        .catch(() => !stop && setReport('unreachable'))
    void poll()
    const timer = setInterval(poll, 60_000)
    return () => {
      stop = true
      clearInterval(timer)
    }
  }, [])
  return report
}

const MODEL_KEY = 'berth.model'

/** The model catalogue and the user's pick (kept in localStorage; null means the server's default). */
export function useModels(): {
  catalog: ModelCatalog | null
  modelId: string | null
  setModelId(id: string | null): void
} {
  const [catalog, setCatalog] = useState<ModelCatalog | null>(null)
  const [modelId, setModel] = useState<string | null>(() => localStorage.getItem(MODEL_KEY))
  useEffect(() => {
    serverApi
      .models()
      .then((c) => {
        setCatalog(c)
        // A remembered model the server no longer offers falls back to the default.
        setModel((current) => (current && c.models.some((m) => m.id === current) ? current : null))
      })
      .catch(() => setCatalog(null))
  }, [])
  const setModelId = (id: string | null) => {
    if (id) localStorage.setItem(MODEL_KEY, id)
    else localStorage.removeItem(MODEL_KEY)
    setModel(id)
  }
  return { catalog, modelId, setModelId }
}

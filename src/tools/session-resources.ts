import type { SessionResources } from './tool.js'

export interface DisposableSessionResources extends SessionResources {
  /** Dispose every resource (newest first), e.g. kill the session's shell. Errors are collected, not thrown early. */
  dispose(): Promise<void>
}

/**
 * The per-session store tools keep things in (a persistent shell, undo
 * history). One per session, held by whoever owns the session's agent;
 * `dispose()` when the session is unloaded or the server stops.
 *
 * @example
 *   const resources = createSessionResources()
 *   const shell = resources.get('bash.shell', () => new PersistentShell(opts), (s) => s.dispose())
 *   await resources.dispose()
 */
export function createSessionResources(): DisposableSessionResources {
  const values = new Map<string, { value: unknown; dispose?: (value: unknown) => void | Promise<void> }>()
  return {
    get<T>(key: string, create: () => T, dispose?: (value: T) => void | Promise<void>): T {
      const existing = values.get(key)
      if (existing) return existing.value as T
      const value = create()
      values.set(key, { value, dispose: dispose as ((value: unknown) => void | Promise<void>) | undefined })
      return value
    },
    async dispose(): Promise<void> {
      const entries = [...values.values()].reverse()
      values.clear()
      const errors: unknown[] = []
      for (const entry of entries) {
        try {
          await entry.dispose?.(entry.value)
        } catch (error) {
          errors.push(error)
        }
      }
      if (errors.length === 1) throw errors[0]
      if (errors.length > 1) throw new AggregateError(errors, 'Several session resources failed to dispose')
    },
  }
}

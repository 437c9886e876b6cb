import type { S3Client } from '@aws-sdk/client-s3'

/** One request the S3 client finished (retries included in its time). */
export interface S3RequestOutcome {
  /** The command without its suffix: `GetObject`, `PutObject`, `HeadBucket`… */
  operation: string
  seconds: number
  /** Set when the request failed: the HTTP status of the answer, or null when none came (network, timeout). */
  failedStatus?: number | null
}

/** Who wants to hear about S3 traffic: `/metrics` (src/server/routes/metrics.ts). */
export interface S3Observer {
  request?(outcome: S3RequestOutcome): void
  /** A read asked the local read cache (read-cache.ts) for a copy: found one or not. */
  cacheLookup?(hit: boolean): void
}

// Process-wide: every S3 client of this process reports here, and nothing is kept when nobody listens.
const observers = new Set<S3Observer>()

/**
 * Listen to S3 requests and read-cache lookups of this process. Returns the
 * function that stops listening.
 *
 * @example
 *   const stop = observeS3({ request: (r) => requests.inc({ operation: r.operation }) })
 */
export function observeS3(observer: S3Observer): () => void {
  observers.add(observer)
  return () => observers.delete(observer)
}

export function reportCacheLookup(hit: boolean): void {
  for (const observer of observers) observer.cacheLookup?.(hit)
}

/** Time every request `client` sends and report it to the observers (added once, by `createS3Client`). */
export function reportRequests(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (observers.size === 0) return next(args)
      const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '')
      const started = performance.now()
      const emit = (failedStatus?: number | null) => {
        const outcome: S3RequestOutcome = { operation, seconds: (performance.now() - started) / 1000 }
        if (failedStatus !== undefined) outcome.failedStatus = failedStatus
        for (const observer of observers) observer.request?.(outcome)
      }
      try {
        const result = await next(args)
        emit()
        return result
      } catch (error) {
        emit((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? null)
        throw error
      }
    },
    { step: 'initialize', name: 'berthRequestObserver' },
  )
}

/**
 * The base of public links the agent hands out (static_deploy): the run's own
 * (from the request's host), else BERTH_PUBLIC_URL / PUBLIC_URL, else
 * `http://localhost:<port>`. Never `0.0.0.0` or `[::]`, which browsers cannot
 * open: those become `localhost`. No trailing slash.
 *
 * @example
 *   resolvePublicUrl(undefined, { publicUrl: undefined, port: 8000 }) // 'http://localhost:8000'
 *   resolvePublicUrl('http://0.0.0.0:8000/', { publicUrl: undefined, port: 8000 }) // 'http://localhost:8000'
 */
export function resolvePublicUrl(
  fromRequest: string | undefined,
  config: { publicUrl?: string | undefined; port: number },
): string {
  const raw = fromRequest ?? config.publicUrl ?? `http://localhost:${config.port}`
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return `http://localhost:${config.port}`
  }
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]' || url.hostname === '::') url.hostname = 'localhost'
  return url.toString().replace(/\/+$/, '')
}

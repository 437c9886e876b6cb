import type { FastifyPluginAsync } from 'fastify'
import { z } from 'zod'
import type { BerthConfig } from '../../config/config.js'
import type { ServerContext } from '../context.js'
import { type SiteServer, WORKSPACE_PREFIX } from '../files/site-server.js'

const siteSchema = {
  tags: ['sites'],
  summary: 'A file of a deployed site (public, sandboxed by CSP)',
  params: z.object({ '*': z.string() }),
}

/**
 * Deployed sites at `/workspace/<session>/<path>`, the URL `static_deploy`
 * hands out. Public like a published site: no token, no device. With
 * `STATIC_BASE_URL` set, requests whose Host is that URL's host are served
 * at `/<session>/<path>` as well, so sites can live on their own origin.
 */
export const staticSiteRoutes: FastifyPluginAsync<{ context: ServerContext; sites: SiteServer }> = async (
  app,
  { context, sites },
) => {
  // A pino child per request (for its request id) costs more than serving a cached file; site requests log
  // nothing of their own, so they share the server's logger.
  app.setChildLoggerFactory((logger) => logger)
  app.route({
    method: ['GET', 'HEAD'],
    url: `${WORKSPACE_PREFIX}*`,
    schema: siteSchema,
    handler: (request, reply) => sites.handle(request, reply, WORKSPACE_PREFIX),
  })

  const host = staticSiteHost(context.config)
  if (host === null) return
  app.route({
    method: ['GET', 'HEAD'],
    url: '/*',
    constraints: { host: hostPattern(host) },
    schema: siteSchema,
    handler: (request, reply) => sites.handle(request, reply, '/'),
  })
}

/**
 * The host (`name[:port]`, lower case) of `STATIC_BASE_URL`, or null when
 * sites share the main origin.
 *
 * @example
 *   staticSiteHost({ staticBaseUrl: 'https://sites.example.com' }) // 'sites.example.com'
 */
export function staticSiteHost(config: Pick<BerthConfig, 'staticBaseUrl'>): string | null {
  if (config.staticBaseUrl === undefined) return null
  try {
    return new URL(config.staticBaseUrl).host.toLowerCase()
  } catch {
    return null
  }
}

/**
 * Whether a request is addressed to the sites origin: the auth hook lets
 * these through like `/workspace/*`, since a deployed site is public.
 *
 * @example
 *   if (isStaticSiteRequest(request.headers.host, config)) return // public
 */
export function isStaticSiteRequest(
  hostHeader: string | undefined,
  config: Pick<BerthConfig, 'staticBaseUrl'>,
): boolean {
  const host = staticSiteHost(config)
  return host !== null && hostHeader !== undefined && hostPattern(host).test(hostHeader)
}

/** The host, with or without its port (proxies differ in whether they keep it), any case. */
function hostPattern(host: string): RegExp {
  const name = host.replace(/:\d+$/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`^${name}(:\\d+)?$`, 'i')
}

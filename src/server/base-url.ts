import type { FastifyRequest } from 'fastify'
import { resolvePublicUrl } from '../agent/public-url.js'
import type { BerthConfig } from '../config/config.js'

/**
 * The public base URL for links handed to users (share links, deployed
 * sites): BERTH_PUBLIC_URL when set, else the scheme and host the request
 * came in on (behind a proxy, its X-Forwarded-* headers). Never `0.0.0.0`.
 */
export function publicBaseUrl(request: FastifyRequest, config: BerthConfig): string {
  if (config.publicUrl) return resolvePublicUrl(config.publicUrl, config)
  return resolvePublicUrl(`${request.protocol}://${request.host}`, config)
}

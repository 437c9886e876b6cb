import { lookup } from 'node:dns/promises'
import { realpath } from 'node:fs/promises'
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { isInside } from '../../workspace/containment.js'
import { type AddressPolicy, isPublicAddress } from '../web/address-guard.js'

/**
 * What the session's browser may load. Every request chromium makes (pages,
 * frames, scripts, images, fetches, WebSockets) is asked here first
 * (`context.route`, `context.routeWebSocket` in browser-session.ts), because
 * a page the model opened is untrusted:
 * - berth's own API is refused (a fresh context carries no token or cookie,
 *   and this also stops a page from reading another session through it);
 *   only this session's deployed pages under `/workspace/<session>/` pass;
 * - `file:` only inside the session's workspace (after resolving symlinks);
 * - private, loopback and link-local addresses as in web/address-guard.ts:
 *   refused unless BERTH_WEB_ALLOW_PRIVATE. Chromium resolves names itself,
 *   so the check here is a lookup of its own just before (a name whose
 *   answer changes in between could slip through; the connect-time check of
 *   safeFetch is not available inside chromium).
 */
export interface RequestGuardOptions {
  sessionId: string
  /** Absolute, real path of the session's workspace. */
  workspaceDir: string
  /** berth's public base URL for this run (ToolContext.publicUrl). */
  publicUrl: string
  /** The port berth listens on (BERTH_PORT). */
  serverPort: number
  /** BERTH_WEB_ALLOW_PRIVATE. */
  allowPrivate: boolean
  /** Without allowPrivate: which addresses may be reached; default public ones. */
  allowAddress?: AddressPolicy
}

/** Null when the request may go, else why not (in words for the model). */
export type GuardVerdict = string | null

export class RequestGuard {
  private readonly ownOrigin: string | null
  private readonly ownPorts: Set<string>
  private readonly lookups = new Map<string, { addresses: string[]; expires: number }>()

  constructor(private readonly options: RequestGuardOptions) {
    let own: URL | null = null
    try {
      own = new URL(options.publicUrl)
    } catch {}
    this.ownOrigin = own?.origin ?? null
    this.ownPorts = new Set([String(options.serverPort)])
    if (own !== null) this.ownPorts.add(own.port || (own.protocol === 'https:' ? '443' : '80'))
  }

  /**
   * @example
   *   await guard.check('http://127.0.0.1:8000/api/sessions') // "… berth's own API …"
   *   await guard.check('https://example.com/')                // null
   */
  async check(raw: string): Promise<GuardVerdict> {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return `${raw} is not a valid address.`
    }
    switch (url.protocol) {
      case 'about:':
      case 'data:':
      case 'blob:':
        return null
      case 'file:':
        return this.checkFile(url)
      case 'http:':
      case 'https:':
      case 'ws:':
      case 'wss:':
        return this.checkWeb(url)
      default:
        return `${url.protocol} addresses cannot be opened; use http(s) or a file in the workspace.`
    }
  }

  private async checkFile(url: URL): Promise<GuardVerdict> {
    let target: string
    try {
      target = path.resolve(fileURLToPath(url))
    } catch {
      return `${url.href} is not a local file address.`
    }
    // A symlink inside the workspace must not lead out of it: judge the real path when there is one.
    const real = await realpath(target).catch(() => target)
    if (isInside(this.options.workspaceDir, real)) return null
    return `Refused ${url.href}: only files inside the session's workspace can be opened in the browser.`
  }

  private async checkWeb(url: URL): Promise<GuardVerdict> {
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const port = url.port || (url.protocol === 'https:' || url.protocol === 'wss:' ? '443' : '80')
    const httpOrigin = `${url.protocol.replace(/^ws/, 'http')}//${url.host}`
    const literal = isIP(host) !== 0
    let addresses: string[] | null = literal ? [host] : null
    const resolve = async (): Promise<string[]> => {
      addresses ??= await this.resolve(host)
      return addresses
    }
    const own =
      httpOrigin === this.ownOrigin ||
      (this.ownPorts.has(port) && (isLocalName(host) || (await resolve()).some(isThisMachine)))
    if (own) {
      if (url.pathname.startsWith(`/workspace/${this.options.sessionId}/`) && !url.protocol.startsWith('ws'))
        return null
      return (
        `Refused ${url.origin}${url.pathname}: that is berth's own server. The browser may open only this ` +
        `session's deployed pages there (/workspace/${this.options.sessionId}/…).`
      )
    }
    if (this.options.allowPrivate) return null
    const allowed = this.options.allowAddress ?? isPublicAddress
    let resolved: string[]
    try {
      resolved = await resolve()
    } catch {
      return null // chromium reports the failed lookup itself (net::ERR_NAME_NOT_RESOLVED)
    }
    const bad = resolved.find((address) => !allowed(address))
    if (bad === undefined) return null
    return (
      `Refused ${url.host}: it resolves to ${bad}, a local or private network address. Only public web ` +
      'addresses can be opened (an operator can allow private ones with BERTH_WEB_ALLOW_PRIVATE=true).'
    )
  }

  /** All addresses of a name, kept 30 s: a page loads dozens of resources from the same hosts. */
  private async resolve(host: string): Promise<string[]> {
    const cached = this.lookups.get(host)
    if (cached !== undefined && cached.expires > Date.now()) return cached.addresses
    const answers = await lookup(host, { all: true })
    const addresses = answers.map((answer) => answer.address)
    if (this.lookups.size > 500) this.lookups.clear()
    this.lookups.set(host, { addresses, expires: Date.now() + 30_000 })
    return addresses
  }
}

function isLocalName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '')
  return name === 'localhost' || name.endsWith('.localhost') || (isIP(name) !== 0 && isThisMachine(name))
}

/** Loopback, "any", or an address of one of this machine's interfaces: where berth itself listens. */
function isThisMachine(address: string): boolean {
  const bare = address.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '')
  if (bare === '0.0.0.0' || bare === '::' || bare === '::1' || bare.startsWith('127.')) return true
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) if (entry.address.toLowerCase() === bare) return true
  }
  return false
}

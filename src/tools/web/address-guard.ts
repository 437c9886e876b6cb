import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'
import { BerthError } from '../../core/errors.js'

/**
 * Why this exists: visit_webpage and friends fetch URLs the model chose, from
 * berth's own process. A prompt-injected page could otherwise make berth read
 * its own API (127.0.0.1:8000), a cloud metadata endpoint (169.254.169.254)
 * or anything on the private network, and hand the answer to the model.
 * So by default only public unicast addresses are reached. The check runs
 * where the socket connects (a `lookup` given to node:http), not before the
 * request, so a DNS answer that changes between a check and the connection
 * (DNS rebinding) cannot slip through. `BERTH_WEB_ALLOW_PRIVATE=true` lifts it
 * (a trusted network, and the tests' local servers).
 */
const BLOCKED = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4')
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6')
}

/**
 * Whether an address may be reached when private addresses are not allowed.
 * IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 address;
 * NAT64 and 6to4 addresses by the IPv4 address they carry.
 *
 * @example
 *   isPublicAddress('93.184.216.34') // true
 *   isPublicAddress('::ffff:10.0.0.1') // false
 */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return !BLOCKED.check(address, 'ipv4')
  if (family !== 6) return false
  if (BLOCKED.check(address, 'ipv6')) return false
  const embedded = embeddedIpv4(address)
  return embedded === null || !BLOCKED.check(embedded, 'ipv4')
}

/** The IPv4 address inside a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address. */
function embeddedIpv4(address: string): string | null {
  const groups = expandIpv6(address)
  if (groups === null) return null
  const quad = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) {
    return quad(groups[6] as number, groups[7] as number)
  }
  if (groups[0] === 0x2002) return quad(groups[1] as number, groups[2] as number)
  return null
}

function expandIpv6(address: string): number[] | null {
  let text = address.toLowerCase()
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4) {
    const [a, b, c, d] = (v4[1] as string).split('.').map(Number) as [number, number, number, number]
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const missing = 8 - left.length - right.length
  if (missing < 0 || (tail === undefined && missing !== 0)) return null
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((g) => Number.parseInt(g, 16))
}

function refused(host: string, address: string): BerthError {
  return new BerthError(
    'WEB_REQUEST_FAILED',
    `Refused to fetch ${host}: it resolves to ${address}, a local or private network address. ` +
      'Only public web addresses can be visited (an operator can allow private ones with BERTH_WEB_ALLOW_PRIVATE=true).',
    { details: { host, address } },
  )
}

/** Which addresses may be reached; `isPublicAddress` unless a test narrows it. */
export type AddressPolicy = (address: string) => boolean

/** Throws `WEB_REQUEST_FAILED` for a URL whose host is a literal IP address the policy refuses. */
export function checkLiteralHost(hostname: string, allowed: AddressPolicy = isPublicAddress): void {
  const bare = hostname.replace(/^\[|\]$/g, '')
  if (isIP(bare) !== 0 && !allowed(bare)) throw refused(hostname, bare)
}

/**
 * A `lookup` for node:http that resolves as usual and fails the connection
 * when any resolved address is refused by the policy (all are checked, so a
 * host cannot list a public address first and a private one second).
 */
export function guardedLookup(allowed: AddressPolicy = isPublicAddress): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4)
      const bad = addresses.find((entry) => !allowed(entry.address))
      if (bad !== undefined) return callback(refused(hostname, bad.address), '', 4)
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses)
      const first = addresses[0]
      if (first === undefined) return callback(new Error(`No address for ${hostname}`), '', 4)
      callback(null, first.address, first.family)
    })
  }
}

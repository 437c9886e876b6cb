const COOKIE = 'device_id'
const VALID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/
const YEAR_SECONDS = 365 * 86_400

/**
 * This browser's device id, as the reference UI keeps it: a uuid v4 in the
 * `device_id` cookie for 365 days (SameSite=Lax, Secure on https). Sessions
 * belong to it; there are no accounts.
 *
 * @example
 *   fetch(`/api/sessions/${deviceId()}`)
 */
export function deviceId(): string {
  const existing = readCookie(COOKIE)
  if (existing && VALID.test(existing)) {
    writeCookie(existing) // slide the expiry so an active device never loses its sessions
    return existing
  }
  const id = uuidV4()
  writeCookie(id)
  return id
}

function readCookie(name: string): string | null {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return decodeURIComponent(rest.join('='))
  }
  return null
}

function writeCookie(id: string): void {
  const secure = location.protocol === 'https:' ? '; Secure' : ''
  // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is missing in Firefox and Safari
  document.cookie = `${COOKIE}=${encodeURIComponent(id)}; Max-Age=${YEAR_SECONDS}; Path=/; SameSite=Lax${secure}`
}

/** `crypto.randomUUID` exists only in secure contexts; a plain-http LAN address still needs an id. */
export function uuidV4(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

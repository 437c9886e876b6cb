/** Reading provider answers defensively: a missing or mistyped field becomes empty, never a crash. */

/** `https://x.y/` → `https://x.y` */
export function trimBase(url: string): string {
  return url.replace(/\/+$/, '')
}

export function asString(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
}

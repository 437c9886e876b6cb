import { BerthError } from '../core/errors.js'

/** Opaque paging cursor for the session list: the (created_at, id) of the last row shown. */
export interface SessionCursor {
  createdAt: string
  id: string
}

export function encodeSessionCursor(cursor: SessionCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id]), 'utf8').toString('base64url')
}

export function decodeSessionCursor(text: string): SessionCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { createdAt: value[0], id: value[1] }
    }
  } catch {
    // fall through to the typed error
  }
  throw new BerthError('INVALID_CURSOR', 'The cursor is not one this server handed out.')
}

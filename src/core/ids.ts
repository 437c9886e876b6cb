import { randomUUID } from 'node:crypto'

/** Session and event ids are lowercase uuid4 text, as in the reference system. */
export function newId(): string {
  return randomUUID()
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function isUuid(value: string): boolean {
  return UUID.test(value)
}

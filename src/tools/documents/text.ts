import { readFile } from 'node:fs/promises'

/**
 * A text file's contents: UTF-8 (a BOM dropped), or UTF-16 when the file
 * starts with its byte order mark; invalid bytes become U+FFFD.
 *
 * @example
 *   await readTextFile('/ws/notes.txt') // 'Grüße'
 */
export async function readTextFile(file: string): Promise<string> {
  const bytes = await readFile(file)
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2))
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2))
  return new TextDecoder('utf-8').decode(bytes)
}

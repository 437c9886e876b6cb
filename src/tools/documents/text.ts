import { open, readFile } from 'node:fs/promises'

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

/**
 * The start of a text file, at most `maxBytes` of it, decoded as
 * `readTextFile` does (a character cut in half at the end is dropped): a
 * 200 MB log is not read whole to show its first page.
 *
 * @example
 *   await readTextHead('/ws/big.log', 100_000) // first ~100 KB as text
 */
export async function readTextHead(file: string, maxBytes: number): Promise<string> {
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.alloc(maxBytes)
    const { bytesRead } = await handle.read(buffer, 0, maxBytes, 0)
    const bytes = buffer.subarray(0, bytesRead)
    const [encoding, skip] =
      bytes[0] === 0xff && bytes[1] === 0xfe
        ? (['utf-16le', 2] as const)
        : bytes[0] === 0xfe && bytes[1] === 0xff
          ? (['utf-16be', 2] as const)
          : (['utf-8', 0] as const)
    // stream: true keeps an incomplete last character back instead of turning it into U+FFFD.
    return new TextDecoder(encoding).decode(bytes.subarray(skip), { stream: true })
  } finally {
    await handle.close()
  }
}

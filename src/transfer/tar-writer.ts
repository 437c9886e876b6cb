import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { Header, Pax } from 'tar'

const BLOCK = 512
const ZEROS = Buffer.alloc(BLOCK * 2)

export interface TarEntryOptions {
  mode?: number
  mtime?: Date
}

/**
 * Writes a POSIX (pax) tar stream entry by entry into any writable: a file,
 * a gzip stream, an HTTP response. node-tar encodes the headers (long and
 * non-ASCII names go into pax records); this class owns the order and the
 * byte counts, so a caller can hash exactly what it streams.
 *
 * @example
 *   const tar = new TarWriter(gzip)
 *   await tar.addBuffer('manifest.json', Buffer.from('{}'))
 *   await tar.addFile('workspace/a.txt', 5, fileChunks)
 *   await tar.finish()
 */
export class TarWriter {
  constructor(private readonly out: Writable) {}

  async addDirectory(path: string, options: TarEntryOptions = {}): Promise<void> {
    await this.header({ path: path.endsWith('/') ? path : `${path}/`, type: 'Directory', size: 0, ...options })
  }

  async addSymlink(path: string, linkpath: string, options: TarEntryOptions = {}): Promise<void> {
    await this.header({ path, type: 'SymbolicLink', size: 0, linkpath, ...options })
  }

  async addBuffer(path: string, data: Uint8Array, options: TarEntryOptions = {}): Promise<void> {
    await this.addFile(path, data.byteLength, [data], options)
  }

  /**
   * A regular file of exactly `size` bytes taken from `chunks`. Fewer or more
   * bytes is an error (the header already promised the size).
   */
  async addFile(
    path: string,
    size: number,
    chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    options: TarEntryOptions = {},
  ): Promise<void> {
    await this.header({ path, type: 'File', size, ...options })
    let written = 0
    for await (const chunk of chunks) {
      written += chunk.byteLength
      if (written > size) throw new Error(`${path} produced more than the ${size} bytes announced`)
      await this.write(chunk)
    }
    if (written !== size) throw new Error(`${path} produced ${written} bytes, not the ${size} announced`)
    const padding = (BLOCK - (size % BLOCK)) % BLOCK
    if (padding > 0) await this.write(ZEROS.subarray(0, padding))
  }

  /** The end-of-archive marker; does not end `out`. */
  async finish(): Promise<void> {
    await this.write(ZEROS)
  }

  private async header(data: {
    path: string
    type: 'File' | 'Directory' | 'SymbolicLink'
    size: number
    linkpath?: string
    mode?: number
    mtime?: Date
  }): Promise<void> {
    const fields = {
      path: data.path,
      type: data.type,
      size: data.size,
      linkpath: data.linkpath,
      mode: data.mode ?? (data.type === 'Directory' ? 0o755 : 0o644),
      mtime: data.mtime ?? new Date(0),
      uid: 0,
      gid: 0,
    }
    const header = new Header(fields)
    if (header.encode()) {
      await this.write(
        new Pax({ path: data.path, linkpath: data.linkpath, size: data.size, mtime: fields.mtime }).encode(),
      )
    }
    await this.write(header.block as Buffer)
  }

  private async write(chunk: Uint8Array): Promise<void> {
    if (!this.out.write(chunk)) await once(this.out, 'drain')
  }
}

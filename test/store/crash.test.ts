import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { tempDir } from '../helpers/temp-dir.js'

const writerScript = fileURLToPath(new URL('./fixtures/append-writer.ts', import.meta.url))

describe('crash safety', () => {
  it('keeps every acknowledged event when the writer is killed with SIGKILL mid-stream', async () => {
    const dir = await tempDir()
    const file = join(dir, 'events.db')
    const child = spawn(process.execPath, ['--import', 'tsx', writerScript, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const acked = new Map<number, string>()
    const lines = createInterface({ input: child.stdout })
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)))
      lines.on('line', (line) => {
        const [word, seq, id] = line.split(' ')
        if (word === 'ack') acked.set(Number(seq), id as string)
        // Kill it in full flight, well after it started.
        if (acked.size === 3000) {
          child.removeAllListeners('exit')
          child.kill('SIGKILL')
          resolve()
        }
      })
    })
    await new Promise((resolve) => child.once('exit', resolve))

    const store = await SqliteStore.open({ file })
    expect(await store.checkIntegrity()).toEqual(['ok'])
    const stored = new Map<number, string>()
    let after = 0
    for (;;) {
      const page = await store.readEvents('crash', { after, limit: 5000 })
      for (const event of page.events) stored.set(event.seq, event.id)
      if (page.nextAfter === null) break
      after = page.nextAfter
    }
    for (const [seq, id] of acked) expect(stored.get(seq)).toBe(id)
    // Stored seqs are gapless 1..n: nothing half-written.
    expect([...stored.keys()]).toEqual(Array.from({ length: stored.size }, (_, i) => i + 1))
    // It keeps working after the crash.
    const next = await store.append('crash', { type: 'system', content: { message: 'after crash' } })
    expect(next.seq).toBe(stored.size + 1)
    await store.close()
  })
})

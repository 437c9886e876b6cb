import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { tryMount, unmount } from '../helpers/mount.js'
import { tempDir } from '../helpers/temp-dir.js'

describe('disk full during appends', () => {
  it('fails the append that does not fit, keeps everything before it, and recovers once space is back', async (ctx) => {
    const dir = join(await tempDir(), 'small-disk')
    if (!tryMount(dir, 'size=2m')) {
      ctx.skip('cannot mount a tmpfs here (needs root on Linux); the disk-full test did not run')
    }
    try {
      const file = join(dir, 'events.db')
      const store = await SqliteStore.open({ file })
      await store.createSession({ id: 's', workspaceDir: '/w/s', deviceId: 'd' })
      // Leave roughly 300 KB free, then write until the disk refuses.
      const filler = join(dir, 'filler')
      await writeFile(filler, Buffer.alloc(1024 * 1024 + 512 * 1024))
      const acknowledged: number[] = []
      let failure: unknown
      for (let i = 0; i < 200; i++) {
        try {
          const event = await store.append('s', { type: 'tool_result', content: { i, blob: 'é'.repeat(8 * 1024) } })
          acknowledged.push(event.seq)
        } catch (error) {
          failure = error
          break
        }
      }
      expect(isBerthError(failure, 'DISK_FULL')).toBe(true)
      expect((failure as Error).message).toContain('disk is full')
      expect(acknowledged.length).toBeGreaterThan(0)

      // Everything acknowledged is readable, nothing half-written.
      const before = await store.readEvents('s', { limit: 1000 })
      expect(before.events.map((e) => e.seq)).toEqual(acknowledged)

      await rm(filler)
      const after = await store.append('s', { type: 'system', content: { message: 'space is back' } })
      expect(after.seq).toBe(acknowledged.length + 1)
      expect(await store.checkIntegrity()).toEqual(['ok'])
      await store.close()
    } finally {
      unmount(dir)
    }
  })
})
